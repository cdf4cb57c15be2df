# mailwardctl: the admin tool. "check" reuses the plugins' pure parts: the
# MTA-STS parsers, the DANE verdict, the SPF record parser (libmwspf) and the
# DMARC discovery, policy and public suffix list code.
sbin_PROGRAMS += ctl/mailwardctl
ctl_mailwardctl_SOURCES = ctl/mailwardctl.c ctl/ctl.h ctl/keys.c ctl/cache.c \
	ctl/check.c ctl/check.h ctl/check-sts.c ctl/check-dane.c ctl/check-tlsa.c ctl/check-mail.c \
	ctl/dkim-record.c ctl/dkim-record.h \
	ctl/publish.c ctl/tlsa.c ctl/tlsa.h \
	policyd/publish-table.c policyd/publish-table.h \
	plugins/mta-sts/policy.c plugins/mta-sts/policy.h \
	plugins/dane/verdict.c plugins/dane/verdict.h \
	plugins/dmarc/discover.c plugins/dmarc/discover.h \
	plugins/dmarc/policy.c plugins/dmarc/policy.h \
	plugins/dmarc/psl.c plugins/dmarc/psl.h
ctl_mailwardctl_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/policyd $(CURL_CFLAGS) $(GPGME_CFLAGS) $(OPENSSL_CFLAGS)
ctl_mailwardctl_LDADD = lib/libmwkeystore.la plugins/spf/libmwspf.la lib/libmailward.la \
	$(CURL_LIBS) $(GPGME_LIBS) $(OPENDMARC_LIBS) $(OPENSSL_LIBS) $(SPF2_LIBS)
