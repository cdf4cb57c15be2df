# tests: mailwardctl check DOMAIN in the test world (tests/ctl/check.sh).
TESTS += tests/ctl/check.sh
EXTRA_DIST += tests/ctl/check.sh

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-ctl-dkim-record
TESTS += tests/unit/test-ctl-dkim-record
tests_unit_test_ctl_dkim_record_SOURCES = tests/unit/test-ctl-dkim-record.c \
	ctl/dkim-record.c ctl/dkim-record.h
tests_unit_test_ctl_dkim_record_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_ctl_dkim_record_LDADD = lib/libmailward.la $(CMOCKA_LIBS)
endif
