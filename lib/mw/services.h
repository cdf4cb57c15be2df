/*
 * mw/services.h - the shared services a daemon lends its plugins.
 *
 * mw_services_open() fills struct mw_host's cache (mw/cache.h) and resolver
 * (mw/dns.h) from the configuration and publishes the cache's counters as
 * metrics; mw_services_close() undoes it. Both daemons call them after
 * detaching (the resolver and the metrics server run threads, which do not
 * survive fork) and before dropping privileges. Plugins keep the struct
 * mw_host pointer they got at init: cache and dns are set before the first
 * hook runs, and are NULL while a daemon only checks its configuration (-n).
 */
#ifndef MW_SERVICES_H
#define MW_SERVICES_H

#include "mailward-plugin.h"

/* Open the cache and the resolver into host; 0 or -1 with err (nothing left open). */
int mw_services_open(struct mw_host *host, const struct mw_config *cfg, struct mw_err *err);
/* Close what mw_services_open() opened (before the event base they use is freed). */
void mw_services_close(struct mw_host *host);

#endif
