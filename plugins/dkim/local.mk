# dkim plugin: DKIM verification of inbound mail and signing of outbound mail, with
# libopendkim. Built as the libtool module plugins/.libs/dkim.so, installed as
# $(plugindir)/dkim.so. The From parser is the dmarc plugin's (plugins/dmarc/from.c).
plugin_LTLIBRARIES += plugins/dkim.la
plugins_dkim_la_SOURCES = plugins/dkim/dkim.c \
	plugins/dkim/keytable.c plugins/dkim/keytable.h \
	plugins/dkim/keys.c plugins/dkim/sign.c plugins/dkim/sign.h \
	plugins/dmarc/from.c plugins/dmarc/from.h
plugins_dkim_la_CFLAGS = $(AM_CFLAGS) $(OPENDKIM_CFLAGS) $(OPENSSL_CFLAGS)
plugins_dkim_la_LDFLAGS = $(mw_plugin_ldflags)
plugins_dkim_la_LIBADD = lib/libmailward.la $(OPENDKIM_LIBS) $(OPENSSL_LIBS)
