# tests: the spilling byte store (lib/spool.c) and the pgp plugin collecting big messages on disk.
check_PROGRAMS += tests/unit/test-spool
TESTS += tests/unit/test-spool
tests_unit_test_spool_SOURCES = tests/unit/test-spool.c
tests_unit_test_spool_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_spool_LDADD = lib/libmailward.la $(CMOCKA_LIBS)
TESTS += tests/pgp/spool.sh
EXTRA_DIST += tests/pgp/spool.sh
