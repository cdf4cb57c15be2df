# tests: cache (memory LRU; Redis against a redis-server the test starts).
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-cache
TESTS += tests/unit/test-cache
tests_unit_test_cache_SOURCES = tests/unit/test-cache.c
tests_unit_test_cache_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(LIBEVENT_CFLAGS) $(HIREDIS_CFLAGS)
tests_unit_test_cache_LDADD = lib/libmailward.la $(CMOCKA_LIBS) $(LIBEVENT_LIBS) $(HIREDIS_LIBS)
endif
