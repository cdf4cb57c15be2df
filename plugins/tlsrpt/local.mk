# tlsrpt plugin: TLS reports (RFC 8460) received by mail, parsed by lib/tlsrpt.c.
# Built as the libtool module plugins/.libs/tlsrpt.so, installed as $(plugindir)/tlsrpt.so.
plugin_LTLIBRARIES += plugins/tlsrpt.la
plugins_tlsrpt_la_SOURCES = plugins/tlsrpt/tlsrpt.c \
	plugins/tlsrpt/mail.c plugins/tlsrpt/mail.h
plugins_tlsrpt_la_CFLAGS = $(AM_CFLAGS) $(GMIME_CFLAGS)
plugins_tlsrpt_la_LDFLAGS = $(mw_plugin_ldflags)
plugins_tlsrpt_la_LIBADD = lib/libmailward.la $(GMIME_LIBS)
