# plugins/: one folder per check, each a libtool module NAME.so in plugindir.
include plugins/tls-rules/local.mk
include plugins/dane/local.mk
include plugins/dkim/local.mk
include plugins/mta-sts/local.mk
include plugins/spf/local.mk
include plugins/dmarc/local.mk
include plugins/pgp/local.mk
include plugins/tlsrpt/local.mk
# The ABI every plugin (and both hosts) compiles against.
noinst_HEADERS = plugins/mailward-plugin.h
