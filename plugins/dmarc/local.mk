# dmarc plugin: DMARC policy (RFC 7489) for inbound mail, records parsed by libopendmarc.
# Built as the libtool module plugins/.libs/dmarc.so, installed as $(plugindir)/dmarc.so.
plugin_LTLIBRARIES += plugins/dmarc.la
plugins_dmarc_la_SOURCES = plugins/dmarc/dmarc.c \
	plugins/dmarc/discover.c plugins/dmarc/discover.h \
	plugins/dmarc/from.c plugins/dmarc/from.h \
	plugins/dmarc/policy.c plugins/dmarc/policy.h \
	plugins/dmarc/psl.c plugins/dmarc/psl.h
plugins_dmarc_la_LDFLAGS = $(mw_plugin_ldflags)
plugins_dmarc_la_LIBADD = lib/libmailward.la $(OPENDMARC_LIBS)
