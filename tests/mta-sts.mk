# tests: the mta-sts plugin (policy and TXT parsers, cache entries; the daemon in the test world).
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-mta-sts
TESTS += tests/unit/test-mta-sts
tests_unit_test_mta_sts_SOURCES = tests/unit/test-mta-sts.c plugins/mta-sts/policy.c \
	plugins/mta-sts/entry.c
tests_unit_test_mta_sts_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_mta_sts_LDADD = lib/libmailward.la $(CMOCKA_LIBS)
endif
mta_sts_tests = tests/mta-sts/answers.sh tests/mta-sts/cache.sh tests/mta-sts/deliver.sh
TESTS += $(mta_sts_tests)
EXTRA_DIST += $(mta_sts_tests) tests/mta-sts/lib.sh
