# tests: metrics (registry, renderings, the HTTP endpoint fetched with libcurl).
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-metrics
TESTS += tests/unit/test-metrics
tests_unit_test_metrics_SOURCES = tests/unit/test-metrics.c
tests_unit_test_metrics_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(CURL_CFLAGS) $(LIBEVENT_CFLAGS)
tests_unit_test_metrics_LDADD = lib/libmailward.la $(CMOCKA_LIBS) $(CURL_LIBS) $(LIBEVENT_LIBS)
endif
