# tests: metrics (registry, renderings, the HTTP endpoint fetched with libcurl).
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-metrics
TESTS += tests/unit/test-metrics
tests_unit_test_metrics_SOURCES = tests/unit/test-metrics.c
tests_unit_test_metrics_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(CURL_CFLAGS) $(LIBEVENT_CFLAGS)
tests_unit_test_metrics_LDADD = lib/libmailward.la $(CMOCKA_LIBS) $(CURL_LIBS) $(LIBEVENT_LIBS)
endif
# The daemons' endpoints scraped after real traffic in the test world.
TESTS += tests/metrics/world.sh
EXTRA_DIST += tests/metrics/world.sh
