# tests: dns. test-dns alone runs the decoder tests (the resolver tests skip
# without a DNS world); tests/dns/resolve.sh starts unbound with signed and
# unsigned test zones (tests/lib/dnsworld.sh) and runs it against them.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-dns
TESTS += tests/unit/test-dns tests/dns/resolve.sh
tests_unit_test_dns_SOURCES = tests/unit/test-dns.c
tests_unit_test_dns_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(LIBEVENT_CFLAGS)
tests_unit_test_dns_LDADD = lib/libmailward.la $(CMOCKA_LIBS) $(LIBEVENT_LIBS)
endif
EXTRA_DIST += tests/dns/resolve.sh tests/lib/dnsworld.sh
