# mailward-milter: the libmilter host of the milter plugins.
sbin_PROGRAMS += milter/mailward-milter
milter_mailward_milter_SOURCES = \
	milter/main.c milter/milter.h \
	milter/sigwait.c milter/nodelay.c \
	milter/callbacks.c \
	milter/eom.c \
	milter/stats.c \
	milter/ar.c milter/ar.h
milter_mailward_milter_CFLAGS = $(AM_CFLAGS) $(MILTER_CFLAGS)
milter_mailward_milter_LDADD = lib/libmailward.la $(MILTER_LIBS) -lpthread
