# tests: the pgp plugin (OpenPGP encryption and signing of outbound mail).
check_PROGRAMS += tests/unit/test-pgp-policy
TESTS += tests/unit/test-pgp-policy
tests_unit_test_pgp_policy_SOURCES = tests/unit/test-pgp-policy.c plugins/pgp/policy.c
tests_unit_test_pgp_policy_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_pgp_policy_LDADD = lib/libmailward.la $(CMOCKA_LIBS)
TESTS += tests/pgp/milter.sh tests/pgp/postfix.sh tests/pgp/password-milter.sh
EXTRA_DIST += tests/pgp/milter.sh tests/pgp/postfix.sh tests/pgp/password-milter.sh tests/pgp/client.py tests/pgp/check.py
