# tests: publishing our own policies: mailward-policyd's [mta-sts-publish] HTTPS listener
# in the test world (with postfix-mta-sts-resolver and Postfix), mailwardctl sts init,
# tlsa and check against the world's DNS and MX hosts.
publish_tests = tests/publish/serve.sh
TESTS += $(publish_tests)
EXTRA_DIST += $(publish_tests) tests/publish/lib.sh tests/publish/client.py
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-publish-table
TESTS += tests/unit/test-publish-table
tests_unit_test_publish_table_SOURCES = tests/unit/test-publish-table.c \
	policyd/publish-table.c policyd/publish-table.h
tests_unit_test_publish_table_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_publish_table_LDADD = lib/libmailward.la $(CMOCKA_LIBS)
endif
