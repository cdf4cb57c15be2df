/*
 * services.c - the shared cache and resolver of a daemon (see mw/services.h).
 */
#include "config.h"

#include "mw/cache.h"
#include "mw/dns.h"
#include "mw/metrics.h"
#include "mw/services.h"

/* The cache keeps its own counters; the metrics read them when rendering. */
#define MW_CACHE_READER(field)                                                                     \
    static uint64_t mw_services_cache_##field(void *arg)                                           \
    {                                                                                              \
        struct mw_cache_stats st;                                                                  \
        mw_cache_stats(arg, &st);                                                                  \
        return (uint64_t)st.field;                                                                 \
    }
MW_CACHE_READER(hits)
MW_CACHE_READER(misses)
MW_CACHE_READER(sets)
MW_CACHE_READER(redis_errors)
MW_CACHE_READER(redis_outages)

static double
mw_services_redis_up(void *arg)
{
    struct mw_cache_stats st;

    mw_cache_stats(arg, &st);
    return st.redis_up;
}

static double
mw_services_cache_entries(void *arg)
{
    struct mw_cache_stats st;

    mw_cache_stats(arg, &st);
    return (double)st.memory_entries;
}

static void
mw_services_cache_metrics(struct mw_cache *c)
{
    mw_metrics_counter_fn("mailward_cache_lookups_total", "result=\"hit\"",
                          "Cache lookups, per result", mw_services_cache_hits, c);
    mw_metrics_counter_fn("mailward_cache_lookups_total", "result=\"miss\"",
                          "Cache lookups, per result", mw_services_cache_misses, c);
    mw_metrics_counter_fn("mailward_cache_sets_total", "", "Values stored in the cache",
                          mw_services_cache_sets, c);
    mw_metrics_counter_fn("mailward_redis_errors_total", "", "Failed Redis connects and commands",
                          mw_services_cache_redis_errors, c);
    mw_metrics_counter_fn("mailward_redis_outages_total", "",
                          "Times Redis became unreachable (each logged once)",
                          mw_services_cache_redis_outages, c);
    mw_metrics_gauge_fn("mailward_redis_up", "", "1 while Redis answers, else 0",
                        mw_services_redis_up, c);
    mw_metrics_gauge_fn("mailward_cache_memory_entries", "", "Entries in the in-process cache",
                        mw_services_cache_entries, c);
}

int
mw_services_open(struct mw_host *host, const struct mw_config *cfg, struct mw_err *err)
{
    if ((host->cache = mw_cache_open(cfg, err)) == NULL)
        return -1;
    if ((host->dns = mw_dns_open(cfg, err)) == NULL) {
        mw_cache_close(&host->cache);
        return -1;
    }
    mw_services_cache_metrics(host->cache);
    return 0;
}

void
mw_services_close(struct mw_host *host)
{
    if (host->cache != NULL) {
        mw_metrics_unbind(host->cache);
        mw_cache_close(&host->cache);
    }
    mw_dns_close(&host->dns);
}
