# spf plugin: the milter module (SPF of inbound mail at MAIL FROM) over the engines of
# libmwspf.la (local.mk). Built as plugins/.libs/spf.so, installed as $(plugindir)/spf.so.
plugin_LTLIBRARIES += plugins/spf.la
plugins_spf_la_SOURCES = plugins/spf/spf.c \
	plugins/spf/spf-dns.c plugins/spf/spf-dns.h \
	plugins/spf/spf-report.c plugins/spf/spf-report.h
plugins_spf_la_LDFLAGS = $(mw_plugin_ldflags)
plugins_spf_la_LIBADD = plugins/spf/libmwspf.la lib/libmailward.la $(SPF2_LIBS)
