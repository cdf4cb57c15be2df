# tests: TLS reports (RFC 8460): the parser and counters (cmocka, samples in
# tests/tlsrpt/), and the tlsrpt plugin receiving a report through Postfix.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-tlsrpt
TESTS += tests/unit/test-tlsrpt
tests_unit_test_tlsrpt_SOURCES = tests/unit/test-tlsrpt.c
tests_unit_test_tlsrpt_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(ZLIB_CFLAGS)
tests_unit_test_tlsrpt_LDADD = lib/libmailward.la $(CMOCKA_LIBS) $(ZLIB_LIBS)
endif
EXTRA_DIST += tests/tlsrpt/valid.json tests/tlsrpt/multi.json \
	tests/tlsrpt/missing-org.json tests/tlsrpt/missing-summary.json \
	tests/tlsrpt/string-count.json tests/tlsrpt/float-count.json \
	tests/tlsrpt/negative.json tests/tlsrpt/bad-policy-type.json \
	tests/tlsrpt/bad-date.json
TESTS += tests/tlsrpt/mail.sh
EXTRA_DIST += tests/tlsrpt/mail.sh tests/tlsrpt/report-mail.py
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-tlsrpt-mail
TESTS += tests/unit/test-tlsrpt-mail
tests_unit_test_tlsrpt_mail_SOURCES = tests/unit/test-tlsrpt-mail.c plugins/tlsrpt/mail.c
tests_unit_test_tlsrpt_mail_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/tlsrpt
tests_unit_test_tlsrpt_mail_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(GMIME_CFLAGS)
tests_unit_test_tlsrpt_mail_LDADD = lib/libmailward.la $(CMOCKA_LIBS) $(GMIME_LIBS)
endif
