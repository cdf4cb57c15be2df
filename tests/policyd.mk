# tests: policyd (netstring codec, plugin chain, tls-rules table; the daemon against real clients).
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-netstring tests/unit/test-policy tests/unit/test-tls-rules
TESTS += tests/unit/test-netstring tests/unit/test-policy tests/unit/test-tls-rules
tests_unit_test_netstring_SOURCES = tests/unit/test-netstring.c
tests_unit_test_netstring_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_netstring_LDADD = lib/libmailward.la $(CMOCKA_LIBS)
tests_unit_test_policy_SOURCES = tests/unit/test-policy.c
tests_unit_test_policy_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_policy_LDADD = lib/libmailward.la $(CMOCKA_LIBS)
tests_unit_test_tls_rules_SOURCES = tests/unit/test-tls-rules.c plugins/tls-rules/table.c
tests_unit_test_tls_rules_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_tls_rules_LDADD = lib/libmailward.la $(CMOCKA_LIBS)
endif
# The daemon tests need the plugin module built before they run.
policyd_tests = tests/policyd/check.sh tests/policyd/socketmap.sh \
	tests/policyd/delegation.sh tests/policyd/reload.sh tests/policyd/limits.sh \
	tests/policyd/badinput.sh
TESTS += $(policyd_tests)
EXTRA_DIST += $(policyd_tests) tests/policyd/lib.sh tests/policyd/client.py
