# lib/keystore: the OpenPGP keystore (GPGME), a convenience library for
# mailwardctl and the pgp plugin, so the daemons' core does not link GPGME.
noinst_LTLIBRARIES += lib/libmwkeystore.la
lib_libmwkeystore_la_SOURCES = lib/keystore.c lib/keystore-list.c lib/keystore-defaults.c \
	lib/keystore-int.h lib/mw/keystore.h
lib_libmwkeystore_la_CFLAGS = $(AM_CFLAGS) $(GPGME_CFLAGS)
lib_libmwkeystore_la_LIBADD = $(GPGME_LIBS)
