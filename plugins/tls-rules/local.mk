# tls-rules plugin: local TLS rules (outbound table, inbound require_tls_from).
# Built as the libtool module plugins/.libs/tls-rules.so, installed as $(plugindir)/tls-rules.so.
plugin_LTLIBRARIES += plugins/tls-rules.la
plugins_tls_rules_la_SOURCES = plugins/tls-rules/tls-rules.c \
	plugins/tls-rules/table.c plugins/tls-rules/table.h
plugins_tls_rules_la_LDFLAGS = $(mw_plugin_ldflags)
plugins_tls_rules_la_LIBADD = lib/libmailward.la
