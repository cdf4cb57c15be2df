/*
 * mta-sts.h - what the parts of the mta-sts plugin share: its settings, its
 * state, the cached form of a policy and the discovery jobs (job.c).
 *
 * A job discovers one domain's policy (RFC 8461 section 3: TXT record, then
 * the HTTPS fetch) on the event loop. Lookups of a domain whose job is
 * running wait for that job instead of starting another, so concurrent
 * lookups share one fetch; a job never waits for another domain, so a slow
 * domain delays only the lookups that need its answer. A job started to
 * refresh a cached policy ("background") has no waiters: the lookup that
 * started it was answered from the cache.
 *
 * Event-loop thread only.
 */
#ifndef MW_STS_PLUGIN_H
#define MW_STS_PLUGIN_H

#include <sys/queue.h>
#include <time.h>

#include "entry.h"
#include "fetch.h"
#include "mailward-plugin.h"
#include "mw/policy-host.h"
#include "policy.h"

#define MW_STS_BUCKETS 256

struct mw_sts_settings {
    char *ca_file;       /* "" = the system store */
    long timeout_ms;     /* one discovery: TXT, addresses and fetch */
    long recheck;        /* seconds between TXT id checks of a cached policy */
    long negative_ttl;   /* seconds "no policy" is cached (0: not at all) */
    int testing_enforce; /* testing_answer = enforce */
    int tlsrpt;          /* Postfix 3.10 TLSRPT attributes */
};

struct mw_sts_job;
struct mw_sts_near;
LIST_HEAD(mw_sts_job_list, mw_sts_job);

struct mw_sts {
    const struct mw_host *host;
    struct mw_sts_settings set;
    struct mw_sts_fetcher *fetcher; /* made on first use (the loop exists by then) */
    struct mw_sts_job_list jobs[MW_STS_BUCKETS];
    size_t pending; /* DNS and cache callbacks still to come (fini waits for them) */
    int closing;    /* in fini: callbacks only release memory */
    struct mw_sts_near *near; /* policies read lately (near.h) */
};

/* A cached policy: the entry, its own copy of the body, and the body parsed. */
struct mw_sts_cached {
    struct mw_sts_entry e;
    char *body;
    struct mw_sts_policy *p;
};

/* Free a cached policy and NULL the pointer. */
void mw_sts_cached_free(struct mw_sts_cached **cp);

/* Answer q from policy p (NULL: no policy) as the settings say (mta-sts.c). */
void mw_sts_reply(struct mw_sts *s, struct mw_tlsq *q, const char *domain,
                  const struct mw_sts_policy *p);
/* The cache key of a domain: "mta-sts:DOMAIN". */
void mw_sts_cache_key(const char *domain, char *key, size_t size);

/* The running job for domain, or NULL. */
struct mw_sts_job *mw_sts_job_find(struct mw_sts *s, const char *domain);
/* A new job for domain, refreshing cached (taken over; NULL when nothing is cached). */
struct mw_sts_job *mw_sts_job_new(struct mw_sts *s, const char *domain,
                                  struct mw_sts_cached *cached);
/* Answer q when the job is done. */
void mw_sts_job_wait(struct mw_sts_job *j, struct mw_tlsq *q);
/* Start a new job; it may finish (and be freed) before this returns. */
void mw_sts_job_run(struct mw_sts_job *j);
/* fini: end every job without answering or caching anything. */
void mw_sts_jobs_abort(struct mw_sts *s);

#endif
