# plugins/: one folder per check, each a libtool module NAME.so in plugindir.
include plugins/tls-rules/local.mk
