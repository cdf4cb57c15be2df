# dkim plugin: DKIM verification of inbound mail with libopendkim (signing: later).
# Built as the libtool module plugins/.libs/dkim.so, installed as $(plugindir)/dkim.so.
plugin_LTLIBRARIES += plugins/dkim.la
plugins_dkim_la_SOURCES = plugins/dkim/dkim.c
plugins_dkim_la_CFLAGS = $(AM_CFLAGS) $(OPENDKIM_CFLAGS)
plugins_dkim_la_LDFLAGS = $(mw_plugin_ldflags)
plugins_dkim_la_LIBADD = lib/libmailward.la $(OPENDKIM_LIBS)
