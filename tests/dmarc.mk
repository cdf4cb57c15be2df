# tests: the dmarc plugin: its parsers and verdicts (cmocka), the milter in the test world,
# and Postfix refusing a forgery end to end.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-dmarc-from tests/unit/test-dmarc-policy
TESTS += tests/unit/test-dmarc-from tests/unit/test-dmarc-policy
tests_unit_test_dmarc_from_SOURCES = tests/unit/test-dmarc-from.c \
	plugins/dmarc/from.c plugins/dmarc/from.h
tests_unit_test_dmarc_from_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_dmarc_from_LDADD = lib/libmailward.la $(CMOCKA_LIBS)
tests_unit_test_dmarc_policy_SOURCES = tests/unit/test-dmarc-policy.c \
	plugins/dmarc/policy.c plugins/dmarc/policy.h plugins/dmarc/psl.c plugins/dmarc/psl.h \
	plugins/dmarc/discover.c plugins/dmarc/discover.h
tests_unit_test_dmarc_policy_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_dmarc_policy_LDADD = lib/libmailward.la $(OPENDMARC_LIBS) $(CMOCKA_LIBS)
endif

# The real mailward-milter with spf dkim dmarc in the test world, messages replayed by
# tests/dkim/client.py; Postfix end to end.
TESTS += tests/dmarc/verify.sh tests/dmarc/postfix.sh
EXTRA_DIST += tests/dmarc/verify.sh tests/dmarc/postfix.sh
