# mailward-policyd: socketmap TLS-policy server and policy delegation server (libevent).
sbin_PROGRAMS += policyd/mailward-policyd
policyd_mailward_policyd_SOURCES = policyd/main.c \
	policyd/server.c policyd/server.h \
	policyd/clients.c policyd/clients.h \
	policyd/socketmap.c policyd/socketmap.h \
	policyd/delegation.c policyd/delegation.h \
	policyd/publish.c policyd/publish.h \
	policyd/publish-table.c policyd/publish-table.h \
	policyd/publish-tls.c policyd/publish-tls.h
policyd_mailward_policyd_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBEVENT_SSL_CFLAGS) \
	$(OPENSSL_CFLAGS)
policyd_mailward_policyd_LDADD = lib/libmailward.la $(LIBEVENT_SSL_LIBS) $(LIBEVENT_LIBS) \
	$(OPENSSL_LIBS)
