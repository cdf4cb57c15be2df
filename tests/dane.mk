# tests: the dane plugin (verdict unit tests; socketmap answers and Postfix end to end in
# the test world) and the tls-rules cooperation with it.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-dane
TESTS += tests/unit/test-dane
tests_unit_test_dane_SOURCES = tests/unit/test-dane.c plugins/dane/verdict.c
tests_unit_test_dane_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_dane_LDADD = lib/libmailward.la $(CMOCKA_LIBS)
endif
dane_tests = tests/dane/socketmap.sh tests/dane/postfix.sh tests/tls-rules/inbound.sh
TESTS += $(dane_tests)
EXTRA_DIST += $(dane_tests)
