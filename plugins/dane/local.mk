# dane plugin: DANE for SMTP (RFC 7672) as a TLS policy for mailward-policyd.
# Built as the libtool module plugins/.libs/dane.so, installed as $(plugindir)/dane.so.
plugin_LTLIBRARIES += plugins/dane.la
plugins_dane_la_SOURCES = plugins/dane/dane.c \
	plugins/dane/lookup.c plugins/dane/lookup.h \
	plugins/dane/verdict.c plugins/dane/verdict.h
plugins_dane_la_LDFLAGS = $(mw_plugin_ldflags)
plugins_dane_la_LIBADD = lib/libmailward.la
