# mailwardctl: the admin tool.
sbin_PROGRAMS += ctl/mailwardctl
ctl_mailwardctl_SOURCES = ctl/mailwardctl.c ctl/ctl.h ctl/keys.c
ctl_mailwardctl_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(GPGME_CFLAGS)
ctl_mailwardctl_LDADD = lib/libmwkeystore.la lib/libmailward.la $(CURL_LIBS) $(GPGME_LIBS)
