# tests: the spf plugin (plugins/spf/plugin.mk): the text it writes (unit test), the
# module in the real mailward-milter in the test world, and end to end through Postfix.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-spf-report
TESTS += tests/unit/test-spf-report
tests_unit_test_spf_report_SOURCES = tests/unit/test-spf-report.c \
	plugins/spf/spf-report.c plugins/spf/spf-report.h
tests_unit_test_spf_report_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_spf_report_LDADD = plugins/spf/libmwspf.la lib/libmailward.la $(CMOCKA_LIBS)
endif

TESTS += tests/spf/milter.sh tests/spf/postfix.sh
EXTRA_DIST += tests/spf/milter.sh tests/spf/postfix.sh tests/spf/milter-client.py
