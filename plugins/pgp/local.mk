# pgp plugin: OpenPGP encryption and signing of outbound mail (GPGME, GMime 3, libcurl).
# Built as the libtool module plugins/.libs/pgp.so, installed as $(plugindir)/pgp.so.
plugin_LTLIBRARIES += plugins/pgp.la
plugins_pgp_la_SOURCES = plugins/pgp/pgp.c plugins/pgp/flow.c plugins/pgp/flow.h \
	plugins/pgp/policy.c plugins/pgp/policy.h plugins/pgp/gpg.c plugins/pgp/gpg.h \
	plugins/pgp/keycache.c plugins/pgp/keycache.h \
	plugins/pgp/mime.c plugins/pgp/mime.h plugins/pgp/reinject.c plugins/pgp/reinject.h \
	plugins/pgp/password.c plugins/pgp/password.h plugins/pgp/pwflow.c
plugins_pgp_la_CFLAGS = $(AM_CFLAGS) $(GPGME_CFLAGS) $(GMIME_CFLAGS) $(CURL_CFLAGS)
# -z nodelete: GPGME (engine info) and GLib/GMime (type system) keep global state with no
# teardown; unloading them at exit would turn it into leak reports. The module stays mapped.
plugins_pgp_la_LDFLAGS = $(mw_plugin_ldflags) -Wl,-z,nodelete
plugins_pgp_la_LIBADD = lib/libmwkeystore.la lib/libmailward.la $(GPGME_LIBS) $(GMIME_LIBS) $(CURL_LIBS)
