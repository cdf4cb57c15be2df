/*
 * job.c - discovery of one domain's MTA-STS policy on the event loop
 * (RFC 8461 sections 3 and 5), with the cache updates that follow.
 *
 * A job runs: TXT lookup of _mta-sts.DOMAIN; when the record's id differs
 * from the cached policy's (or nothing is cached, or the cached policy is
 * past half its max_age), A and AAAA lookups of mta-sts.DOMAIN through the
 * daemon's resolver; then the HTTPS fetch (fetch.c) and the strict parse
 * (policy.c). The whole job is bounded by the timeout setting.
 *
 * How it ends (mw_sts_job_finish):
 *   new policy      cached until it expires (max_age), next TXT check after
 *                   recheck_interval (sooner if half of max_age comes first);
 *   id unchanged    the cached policy is kept, next check as above;
 *   no TXT record   with a cached policy: it is kept until it expires (a
 *                   removed record does not end a policy, section 8.3);
 *                   without: "none" is cached for negative_ttl;
 *   failure         (DNS error, fetch failed, invalid policy, time out)
 *                   with a cached policy: it is kept and served until it
 *                   expires, the check is retried after negative_ttl (or
 *                   recheck_interval if shorter); never a fall back to
 *                   opportunistic TLS because a refresh failed. Without:
 *                   no policy (section 5: deliver as if the domain had no
 *                   MTA-STS); a failed fetch is remembered for negative_ttl,
 *                   a failed DNS lookup is not.
 * Waiting lookups are answered from the policy the job ends with.
 *
 * Memory: a job holds one reference while it runs and one per DNS callback
 * still to come (those cannot be cancelled); it is freed at zero. A fetch is
 * cancelled when the job ends.
 */
#include "config.h"

#include <event2/event.h>
#include <string.h>

#include "mta-sts.h"
#include "mw/alloc.h"
#include "mw/cache.h"
#include "mw/dns.h"
#include "mw/log.h"
#include "mw/metrics.h"

enum mw_sts_phase { MW_STS_TXT, MW_STS_ADDR, MW_STS_FETCH };

enum mw_sts_outcome {
    MW_STS_NEW,       /* a new valid policy was fetched */
    MW_STS_UNCHANGED, /* the cached policy stays current */
    MW_STS_NONE,      /* the domain publishes no (valid) record */
    MW_STS_FAILED,    /* discovery failed */
};

struct mw_sts_job {
    struct mw_sts *s;
    char domain[MW_DOMAIN_MAX + 1];
    struct mw_sts_cached *cached; /* the policy being refreshed, or NULL */
    char id[MW_STS_ID_MAX + 1];   /* the id in the TXT record */
    struct mw_tlsq **waiters;
    size_t nwaiters;
    unsigned int refs;
    int done;
    enum mw_sts_phase phase;
    int addr_left; /* address lookups still to answer */
    struct mw_buf addrs;
    struct mw_sts_fetch *fetch;
    struct event *deadline;
    LIST_ENTRY(mw_sts_job) link;
};

static unsigned int
mw_sts_hash(const char *domain)
{
    unsigned int h = 5381;

    for (const unsigned char *p = (const unsigned char *)domain; *p; p++)
        h = h * 33 + *p;
    return h % MW_STS_BUCKETS;
}

static void
mw_sts_count(const char *result)
{
    char labels[32];

    snprintf(labels, sizeof(labels), "result=\"%s\"", result);
    mw_counter_inc(mw_metrics_counter("mailward_mta_sts_discoveries_total", labels,
                                      "MTA-STS discoveries (TXT check and fetch), per result"));
}

void
mw_sts_cached_free(struct mw_sts_cached **cp)
{
    if (*cp == NULL)
        return;
    mw_sts_policy_free(&(*cp)->p);
    mw_free(&(*cp)->body);
    mw_free(cp);
}

struct mw_sts_job *
mw_sts_job_find(struct mw_sts *s, const char *domain)
{
    struct mw_sts_job *j;

    LIST_FOREACH(j, &s->jobs[mw_sts_hash(domain)], link)
    if (strcmp(j->domain, domain) == 0)
        return j;
    return NULL;
}

struct mw_sts_job *
mw_sts_job_new(struct mw_sts *s, const char *domain, struct mw_sts_cached *cached)
{
    struct mw_sts_job *j = mw_calloc(1, sizeof(*j));

    j->s = s;
    snprintf(j->domain, sizeof(j->domain), "%s", domain);
    j->cached = cached;
    j->refs = 1;
    mw_buf_init(&j->addrs);
    LIST_INSERT_HEAD(&s->jobs[mw_sts_hash(domain)], j, link);
    return j;
}

void
mw_sts_job_wait(struct mw_sts_job *j, struct mw_tlsq *q)
{
    j->waiters = mw_reallocarray(j->waiters, j->nwaiters + 1, sizeof(*j->waiters));
    j->waiters[j->nwaiters++] = q;
}

static void
mw_sts_job_unref(struct mw_sts_job *j)
{
    if (--j->refs > 0)
        return;
    mw_sts_cached_free(&j->cached);
    mw_free(&j->waiters);
    mw_buf_release(&j->addrs);
    mw_free(&j);
}

/* Stop everything the job still runs and take it out of the table. */
static void
mw_sts_job_stop(struct mw_sts_job *j)
{
    j->done = 1;
    LIST_REMOVE(j, link);
    if (j->deadline != NULL)
        event_free(j->deadline);
    j->deadline = NULL;
    mw_sts_fetch_cancel(&j->fetch);
}

/* When the TXT id is next due: after interval, but no later than half of max_age. */
static long long
mw_sts_next_check(long long fetched, unsigned long max_age, long long now, long interval)
{
    long long next = now + interval, half = fetched + (long long)(max_age / 2);

    return half > now && next > half ? half : next;
}

static void
mw_sts_job_store(struct mw_sts_job *j, const struct mw_sts_entry *e, long long ttl)
{
    const struct mw_host *h = j->s->host;
    char key[MW_DOMAIN_MAX + 16];
    struct mw_buf b;

    if (ttl <= 0 || h->cache == NULL)
        return;
    mw_sts_cache_key(j->domain, key, sizeof(key));
    mw_buf_init(&b);
    mw_sts_entry_encode(e, &b);
    mw_cache_set_async(h->cache, h->base, key, b.data, b.len, (unsigned int)ttl);
    mw_buf_release(&b);
}

/* Keep the cached policy, next check after interval; the policy to answer with, or NULL. */
static const struct mw_sts_policy *
mw_sts_job_keep(struct mw_sts_job *j, long long now, long interval)
{
    struct mw_sts_cached *c = j->cached;
    long long expires;

    if (c == NULL)
        return NULL;
    expires = c->e.fetched + (long long)c->p->max_age;
    if (now >= expires)
        return NULL;
    c->e.next_check = mw_sts_next_check(c->e.fetched, c->p->max_age, now, interval);
    mw_sts_job_store(j, &c->e, expires - now);
    return c->p;
}

/*
 * End the job: update the cache as the outcome says (see the head of this
 * file) and answer every waiting lookup. p/body: the new policy (NEW only).
 */
static void
mw_sts_job_finish(struct mw_sts_job *j, enum mw_sts_outcome how, const struct mw_sts_policy *p,
                  const char *body, size_t len, int remember_failure)
{
    struct mw_sts *s = j->s;
    long long now = (long long)time(NULL);
    long retry = s->set.negative_ttl > 0 && s->set.negative_ttl < s->set.recheck
                     ? s->set.negative_ttl
                     : s->set.recheck;
    const struct mw_sts_policy *answer = NULL;
    struct mw_sts_entry e;

    mw_sts_job_stop(j);
    memset(&e, 0, sizeof(e));
    switch (how) {
    case MW_STS_NEW:
        e.has_policy = 1;
        e.fetched = now;
        e.next_check = mw_sts_next_check(now, p->max_age, now, s->set.recheck);
        memcpy(e.id, j->id, sizeof(e.id));
        e.body = body;
        e.body_len = len;
        mw_sts_job_store(j, &e, (long long)p->max_age);
        answer = p;
        break;
    case MW_STS_UNCHANGED:
        answer = mw_sts_job_keep(j, now, s->set.recheck);
        break;
    case MW_STS_NONE:
    case MW_STS_FAILED:
        if (j->cached != NULL) {
            answer = mw_sts_job_keep(j, now, how == MW_STS_NONE ? s->set.recheck : retry);
        } else if (how == MW_STS_NONE || remember_failure) {
            mw_sts_job_store(j, &e, s->set.negative_ttl);
        }
        break;
    }
    mw_sts_count(how == MW_STS_NEW         ? "new"
                 : how == MW_STS_UNCHANGED ? "unchanged"
                 : how == MW_STS_NONE      ? "none"
                                           : "failed");
    for (size_t i = 0; i < j->nwaiters; i++)
        mw_sts_reply(s, j->waiters[i], j->domain, answer);
    j->nwaiters = 0;
    mw_sts_job_unref(j);
}

/* Discovery failed: why is logged, the outcome is MW_STS_FAILED. */
static void
mw_sts_job_fail(struct mw_sts_job *j, int remember, const char *why)
{
    if (j->cached != NULL)
        mw_log_warn("mta-sts: %s: %s: keeping the cached policy (id %s, mode %s)", j->domain, why,
                    j->cached->e.id, mw_sts_mode_name(j->cached->p->mode));
    else
        mw_log_info("mta-sts: %s: %s: no policy", j->domain, why);
    mw_sts_job_finish(j, MW_STS_FAILED, NULL, NULL, 0, remember);
}

static void
mw_sts_job_on_fetch(void *arg, int ok, const char *body, size_t len, const char *why)
{
    struct mw_sts_job *j = arg;
    struct mw_sts_policy *p;
    struct mw_err err;
    char text[MW_ERR_MAX + 32];

    j->fetch = NULL; /* the fetcher frees it after this call */
    if (!ok) {
        snprintf(text, sizeof(text), "policy fetch failed: %s", why);
        mw_sts_job_fail(j, 1, text);
        return;
    }
    if (mw_sts_policy_parse(body, len, &p, &err) < 0) {
        snprintf(text, sizeof(text), "invalid policy: %s", err.text);
        mw_sts_job_fail(j, 1, text);
        return;
    }
    mw_log_info("mta-sts: %s: policy id %s: mode %s, %zu mx pattern%s, max_age %lu", j->domain,
                j->id, mw_sts_mode_name(p->mode), p->nmx, p->nmx == 1 ? "" : "s", p->max_age);
    mw_sts_job_finish(j, MW_STS_NEW, p, body, len, 0);
    mw_sts_policy_free(&p);
}

static void
mw_sts_job_fetch(struct mw_sts_job *j)
{
    struct mw_sts *s = j->s;
    struct mw_sts_fetch_opts o = {s->set.ca_file, s->set.timeout_ms};
    char host[MW_DOMAIN_MAX + 16], text[MW_ERR_MAX + 32];
    struct mw_err err;

    j->phase = MW_STS_FETCH;
    if (j->addrs.len == 0) {
        mw_sts_job_fail(j, 1, "no address for the policy host");
        return;
    }
    if (s->fetcher == NULL && (s->fetcher = mw_sts_fetcher_new(s->host->base, &err)) == NULL) {
        mw_sts_job_fail(j, 0, err.text);
        return;
    }
    snprintf(host, sizeof(host), "mta-sts.%s", j->domain);
    j->fetch =
        mw_sts_fetch_start(s->fetcher, host, j->addrs.data, &o, mw_sts_job_on_fetch, j, &err);
    if (j->fetch == NULL) {
        snprintf(text, sizeof(text), "policy fetch failed: %s", err.text);
        mw_sts_job_fail(j, 0, text);
    }
}

static void
mw_sts_job_on_addr(void *arg, struct mw_dns_answer *a)
{
    struct mw_sts_job *j = arg;
    char addr[MW_DNS_ADDR_TEXT];
    struct mw_err err;

    j->s->pending--;
    if (!j->done) {
        for (size_t i = 0; a->status == MW_DNS_OK && i < a->count; i++) {
            if (mw_dns_addr_decode(a->qtype, a->rr[i].data, a->rr[i].len, addr, &err) < 0)
                continue;
            mw_buf_printf(&j->addrs, a->qtype == MW_DNS_AAAA ? "%s[%s]" : "%s%s",
                          j->addrs.len ? "," : "", addr);
        }
        if (--j->addr_left == 0)
            mw_sts_job_fetch(j);
    }
    mw_dns_answer_free(&a);
    mw_sts_job_unref(j);
}

/* A and AAAA of mta-sts.DOMAIN, both at once. */
static void
mw_sts_job_addresses(struct mw_sts_job *j)
{
    static const int types[2] = {MW_DNS_A, MW_DNS_AAAA};
    const struct mw_host *h = j->s->host;
    char host[MW_DOMAIN_MAX + 16];
    struct mw_err err;

    j->phase = MW_STS_ADDR;
    snprintf(host, sizeof(host), "mta-sts.%s", j->domain);
    for (size_t i = 0; i < 2; i++) {
        int rc = mw_dns_resolve_async(h->dns, h->base, host, types[i], mw_sts_job_on_addr, j, &err);
        if (rc < 0) {
            mw_log_warn("mta-sts: %s: %s", host, err.text);
            continue;
        }
        j->refs++;
        j->addr_left++;
        j->s->pending++;
    }
    if (j->addr_left == 0)
        mw_sts_job_fail(j, 0, "cannot look up the policy host");
}

/* The TXT answer: no record, failure, same id, or on to the fetch. */
static void
mw_sts_job_txt(struct mw_sts_job *j, const struct mw_dns_answer *a)
{
    struct mw_buf *recs;
    struct mw_err err;
    char text[MW_ERR_MAX + 32];
    int rc = 0;

    if (a->status == MW_DNS_NXDOMAIN || a->status == MW_DNS_NODATA) {
        mw_log_debug("mta-sts: %s: no _mta-sts TXT record", j->domain);
        mw_sts_job_finish(j, MW_STS_NONE, NULL, NULL, 0, 0);
        return;
    }
    if (a->status != MW_DNS_OK) {
        snprintf(text, sizeof(text), "TXT lookup failed: %s",
                 a->error ? a->error : mw_dns_status_name(a->status));
        mw_sts_job_fail(j, 0, text);
        return;
    }
    recs = mw_calloc(a->count, sizeof(*recs));
    for (size_t i = 0; i < a->count; i++) {
        mw_buf_init(&recs[i]);
        if (rc == 0)
            rc = mw_dns_txt_decode(a->rr[i].data, a->rr[i].len, &recs[i], &err);
    }
    if (rc == 0)
        rc = mw_sts_txt_pick(recs, a->count, j->id, &err);
    for (size_t i = 0; i < a->count; i++)
        mw_buf_release(&recs[i]);
    mw_free(&recs);
    if (rc < 0) {
        mw_log_info("mta-sts: %s: _mta-sts TXT: %s: no policy record", j->domain, err.text);
        mw_sts_job_finish(j, MW_STS_NONE, NULL, NULL, 0, 0);
    } else if (j->cached != NULL && strcmp(j->id, j->cached->e.id) == 0 &&
               (long long)time(NULL) <
                   j->cached->e.fetched + (long long)(j->cached->p->max_age / 2)) {
        mw_log_debug("mta-sts: %s: policy id %s unchanged", j->domain, j->id);
        mw_sts_job_finish(j, MW_STS_UNCHANGED, NULL, NULL, 0, 0);
    } else {
        mw_sts_job_addresses(j);
    }
}

static void
mw_sts_job_on_txt(void *arg, struct mw_dns_answer *a)
{
    struct mw_sts_job *j = arg;

    j->s->pending--;
    if (!j->done)
        mw_sts_job_txt(j, a);
    mw_dns_answer_free(&a);
    mw_sts_job_unref(j);
}

static void
mw_sts_job_on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct mw_sts_job *j = arg;
    char text[96];

    snprintf(text, sizeof(text), "no answer within %ld ms (%s)", j->s->set.timeout_ms,
             j->phase == MW_STS_TXT    ? "TXT lookup"
             : j->phase == MW_STS_ADDR ? "policy host lookup"
                                       : "policy fetch");
    /* A slow policy host is remembered (negative_ttl); slow DNS is not. */
    mw_sts_job_fail(j, j->phase != MW_STS_TXT, text);
}

void
mw_sts_job_run(struct mw_sts_job *j)
{
    const struct mw_host *h = j->s->host;
    struct timeval tv = {j->s->set.timeout_ms / 1000, (j->s->set.timeout_ms % 1000) * 1000};
    char name[MW_DOMAIN_MAX + 16];
    struct mw_err err;

    j->deadline = evtimer_new(h->base, mw_sts_job_on_deadline, j);
    if (j->deadline == NULL || evtimer_add(j->deadline, &tv) < 0)
        mw_log_panic("mta-sts: cannot create a libevent timer");
    snprintf(name, sizeof(name), "_mta-sts.%s", j->domain);
    if (mw_dns_resolve_async(h->dns, h->base, name, MW_DNS_TXT, mw_sts_job_on_txt, j, &err) < 0) {
        mw_sts_job_fail(j, 0, err.text);
        return;
    }
    j->refs++;
    j->s->pending++;
}

void
mw_sts_jobs_abort(struct mw_sts *s)
{
    for (size_t b = 0; b < MW_STS_BUCKETS; b++)
        while (!LIST_EMPTY(&s->jobs[b])) {
            struct mw_sts_job *j = LIST_FIRST(&s->jobs[b]);
            mw_sts_job_stop(j);
            j->nwaiters = 0;
            mw_sts_job_unref(j);
        }
}
