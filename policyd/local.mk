# mailward-policyd: socketmap TLS-policy server and policy delegation server (libevent).
sbin_PROGRAMS += policyd/mailward-policyd
policyd_mailward_policyd_SOURCES = policyd/main.c \
	policyd/server.c policyd/server.h \
	policyd/socketmap.c policyd/socketmap.h \
	policyd/delegation.c policyd/delegation.h
policyd_mailward_policyd_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
policyd_mailward_policyd_LDADD = lib/libmailward.la $(LIBEVENT_LIBS)
