# lib/: the shared core, one shared library so that the daemons and the
# plugin modules they load share one log, one cache and one resolver.
pkglib_LTLIBRARIES += lib/libmailward.la
lib_libmailward_la_SOURCES = \
	lib/alloc.c lib/mw/alloc.h \
	lib/buf.c lib/mw/buf.h \
	lib/spool.c lib/mw/spool.h \
	lib/log.c lib/mw/log.h lib/mw/err.h \
	lib/config.c lib/config-core.c lib/mw/config.h \
	lib/addr.c lib/mw/addr.h \
	lib/net.c lib/mw/net.h \
	lib/netstring.c lib/mw/netstring.h \
	lib/plugin.c lib/mw/plugins.h \
	lib/daemon.c lib/mw/daemon.h \
	lib/services.c lib/mw/services.h \
	lib/fileperm.c lib/mw/fileperm.h \
	lib/mw/msg.h lib/mw/policy.h
lib_libmailward_la_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(HIREDIS_CFLAGS) $(UNBOUND_CFLAGS)
lib_libmailward_la_LIBADD = $(INIH_LIBS) $(LIBEVENT_LIBS) $(HIREDIS_LIBS) \
	$(UNBOUND_LIBS) $(LIBS)
lib_libmailward_la_LDFLAGS = -avoid-version $(MW_LDFLAGS)

# Each part of the core adds its sources in its own fragment.
include lib/cache.mk
include lib/dns.mk
include lib/metrics.mk
include lib/msg.mk
include lib/policy.mk
include lib/keystore.mk
include lib/tlsrpt.mk
