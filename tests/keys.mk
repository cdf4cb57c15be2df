# tests: the OpenPGP keystore (mailwardctl keys, the defaults file) and
# password-encrypted messages (plugins/pgp/password.c), checked with gpg and rnp.
check_PROGRAMS += tests/pgp/password-wrap
tests_pgp_password_wrap_SOURCES = tests/pgp/password-wrap.c \
	plugins/pgp/password.c plugins/pgp/password.h
tests_pgp_password_wrap_CFLAGS = $(AM_CFLAGS) $(GPGME_CFLAGS) $(GMIME_CFLAGS) \
	-I$(top_srcdir)/plugins/pgp
tests_pgp_password_wrap_LDADD = lib/libmwkeystore.la lib/libmailward.la $(GPGME_LIBS) $(GMIME_LIBS)
TESTS += tests/ctl/keys.sh tests/pgp/password.sh
EXTRA_DIST += tests/ctl/keys.sh tests/pgp/password.sh

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test-pgp-password
TESTS += tests/unit/test-pgp-password
tests_unit_test_pgp_password_SOURCES = tests/unit/test-pgp-password.c \
	plugins/pgp/password.c plugins/pgp/password.h
tests_unit_test_pgp_password_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(GPGME_CFLAGS) \
	$(GMIME_CFLAGS) -I$(top_srcdir)/plugins/pgp
tests_unit_test_pgp_password_LDADD = lib/libmwkeystore.la lib/libmailward.la $(GPGME_LIBS) \
	$(GMIME_LIBS) $(CMOCKA_LIBS)
endif
