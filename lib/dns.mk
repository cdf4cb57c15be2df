# lib/dns: the one resolver (libunbound) and the pure record decoders.
lib_libmailward_la_SOURCES += lib/dns.c lib/dns-rr.c lib/dns-cache.c lib/mw/dns.h lib/mw/dns-cache.h
