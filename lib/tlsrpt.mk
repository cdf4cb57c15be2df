# lib/tlsrpt: TLS reports (RFC 8460) received by mail (plugins/tlsrpt) or by
# HTTPS POST (mailward-policyd's publishing listener): parser (zlib, json-c),
# log line and counters.
lib_libmailward_la_SOURCES += lib/tlsrpt.c lib/tlsrpt-record.c lib/mw/tlsrpt.h
lib_libmailward_la_CFLAGS += $(JSONC_CFLAGS) $(ZLIB_CFLAGS)
lib_libmailward_la_LIBADD += $(JSONC_LIBS) $(ZLIB_LIBS)
