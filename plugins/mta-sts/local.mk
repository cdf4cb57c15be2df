# mta-sts plugin: RFC 8461 MTA-STS policies for smtp_tls_policy_maps (policyd).
# Built as the libtool module plugins/.libs/mta-sts.so, installed as $(plugindir)/mta-sts.so.
plugin_LTLIBRARIES += plugins/mta-sts.la
plugins_mta_sts_la_SOURCES = plugins/mta-sts/mta-sts.c plugins/mta-sts/mta-sts.h \
	plugins/mta-sts/job.c plugins/mta-sts/fetch.c plugins/mta-sts/fetch.h \
	plugins/mta-sts/policy.c plugins/mta-sts/policy.h \
	plugins/mta-sts/entry.c plugins/mta-sts/entry.h \
	plugins/mta-sts/near.c plugins/mta-sts/near.h
plugins_mta_sts_la_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(LIBEVENT_CFLAGS)
plugins_mta_sts_la_LDFLAGS = $(mw_plugin_ldflags)
plugins_mta_sts_la_LIBADD = lib/libmailward.la $(CURL_LIBS) $(LIBEVENT_LIBS)
