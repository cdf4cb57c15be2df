/*
 * dane.c - the dane plugin: DANE for SMTP (RFC 7672) as a TLS policy for
 * mailward-policyd.
 *
 * For a next-hop domain whose MX records are DNSSEC-secure and whose MX
 * hosts publish usable TLSA records, the answer is "OK dane-only" ([dane]
 * level; "dane" if the admin prefers opportunistic DANE); when only some
 * hosts publish TLSA records, "OK dane" (Postfix then applies RFC 7672 host
 * by host). No DANE (insecure MX, no TLSA, no such domain) is NOTFOUND, so
 * the next plugin (mta-sts, tls-rules) answers: DANE takes precedence over
 * MTA-STS (RFC 8461 section 2) because dane comes first in the chain. A
 * bogus or failed lookup is "TEMP reason", never a weaker policy, unless
 * the last DANE verdict of the domain is still in the cache (stale_ttl):
 * then that verdict is answered (a cached policy beats TEMP, and a DANE
 * policy is never weaker than what a failure would allow).
 *
 * Parent-domain keys (".example.net") are NOTFOUND at once: DANE is a
 * property of a domain's own MX hosts. Without a trust anchor ([dns]
 * trust_anchor_file empty) nothing validates, so every answer is NOTFOUND.
 *
 * When a local rule earlier in the chain left a mandatory-TLS fallback
 * (tls-rules: "encrypt", "verify", ...; mw_tlsq_fallback_policy), the answer
 * for a DANE domain is always "dane-only": forced TLS must not become
 * opportunistic DANE, and "encrypt" would switch DANE off.
 *
 * Verdicts (not answers: the level may change on reload) are cached in the
 * shared cache under "dane:DOMAIN" for the smallest TTL of the RRsets they
 * rest on, bounded by min_ttl and max_ttl; DANE verdicts are also kept
 * under "dane-last:DOMAIN" for stale_ttl. Questions for a domain whose
 * lookup is in progress join it (one walk per domain at a time).
 *
 * Shutdown: mailward-policyd closes the cache, then the resolver, before
 * fini; both answer pending work, so every job ends before fini. A cache
 * callback here never calls the cache again (it may be closing), and the
 * cache and resolver are checked for NULL before every use.
 *
 * Event-loop thread only, as every policy plugin.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/queue.h>

#include "lookup.h"
#include "mailward-plugin.h"
#include "mw/alloc.h"
#include "mw/cache.h"
#include "mw/log.h"
#include "mw/metrics.h"
#include "mw/policy-host.h"
#include "verdict.h"

#define MW_DANE_BUCKETS 256

struct mw_dane_state;

/* One domain being decided, and the questions waiting for it. */
struct mw_dane_job {
    LIST_ENTRY(mw_dane_job) link;
    struct mw_dane_state *s;
    struct mw_tlsq **waiting;
    size_t n, cap;
    struct mw_dane_verdict failed; /* the FAIL verdict while the stale one is looked up */
    char domain[MW_DOMAIN_MAX + 1];
};

struct mw_dane_state {
    const struct mw_host *host;
    char level[16]; /* "dane-only" or "dane" */
    unsigned int min_ttl, max_ttl, stale_ttl;
    int validating; /* [dns] trust_anchor_file is set */
    LIST_HEAD(, mw_dane_job) jobs[MW_DANE_BUCKETS];
};

static const struct mw_cfg_key mw_dane_keys[] = {
    {"level", MW_CFG_ENUM, "dane-only", 0, 0, "dane-only|dane", NULL,
     "Answer for domains whose every MX host has usable TLSA records."},
    {"min_ttl", MW_CFG_INT, "60", 0, 86400, NULL, NULL,
     "Shortest time in seconds a verdict is cached, whatever the DNS TTLs."},
    {"max_ttl", MW_CFG_INT, "3600", 1, 604800, NULL, NULL,
     "Longest time in seconds a verdict is cached, whatever the DNS TTLs."},
    {"stale_ttl", MW_CFG_INT, "86400", 0, 2592000, NULL, NULL,
     "Seconds the last DANE verdict is kept to answer when DNS fails; 0 = TEMP at once."},
    {NULL, 0, NULL, 0, 0, NULL, NULL, NULL},
};

static const struct mw_cfg_section mw_dane_section = {
    "dane", "DANE for SMTP, RFC 7672 (plugin dane).", mw_dane_keys};

static const struct mw_cfg_section *const mw_dane_sections[] = {&mw_dane_section, NULL};

/* ---- metrics ----------------------------------------------------------- */

/*
 * Count one verdict by kind: "all", "some", "none", "fail" (from DNS),
 * "cached", "stale". Each series is looked up in the registry once.
 */
static void
mw_dane_count(const char *what)
{
    static const char *const kinds[] = {"all", "some", "none", "fail", "cached", "stale"};
    static struct mw_counter *counters[6];
    char labels[64];

    for (size_t i = 0; i < 6; i++) {
        if (strcmp(what, kinds[i]) != 0)
            continue;
        if (counters[i] == NULL) {
            snprintf(labels, sizeof(labels), "verdict=\"%s\"", kinds[i]);
            counters[i] = mw_metrics_counter("mailward_dane_verdicts_total", labels,
                                             "DANE verdicts, per kind (cache hits, stale answers)");
        }
        mw_counter_inc(counters[i]);
    }
}

/* ---- jobs -------------------------------------------------------------- */

static unsigned int
mw_dane_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % MW_DANE_BUCKETS;
}

static struct mw_dane_job *
mw_dane_job_find(struct mw_dane_state *s, const char *domain)
{
    struct mw_dane_job *j;

    LIST_FOREACH(j, &s->jobs[mw_dane_hash(domain)], link)
    if (strcmp(j->domain, domain) == 0)
        return j;
    return NULL;
}

static void
mw_dane_job_wait(struct mw_dane_job *j, struct mw_tlsq *q)
{
    if (j->n == j->cap) {
        j->cap = j->cap ? j->cap * 2 : 4;
        j->waiting = mw_reallocarray(j->waiting, j->cap, sizeof(*j->waiting));
    }
    j->waiting[j->n++] = q;
}

/* A mandatory-TLS level ("encrypt", "verify", ...), as a local rule may leave as fallback. */
static int
mw_dane_mandatory(const char *policy)
{
    size_t len;

    if (policy == NULL)
        return 0;
    len = strcspn(policy, " ");
    return !((len == 4 && strncmp(policy, "none", 4) == 0) ||
             (len == 3 && strncmp(policy, "may", 3) == 0) ||
             (len == 4 && strncmp(policy, "dane", 4) == 0));
}

static void
mw_dane_reply(const struct mw_dane_state *s, struct mw_tlsq *q, const struct mw_dane_verdict *v)
{
    int forced = mw_dane_mandatory(mw_tlsq_fallback_policy(q));

    switch (v->cls) {
    case MW_DANE_NONE:
        mw_tlsq_reply(q, MW_TLS_NOTFOUND, "%s", "");
        break;
    case MW_DANE_ALL:
        mw_tlsq_reply(q, MW_TLS_OK, "%s", forced ? "dane-only" : s->level);
        break;
    case MW_DANE_SOME:
        mw_tlsq_reply(q, MW_TLS_OK, "%s", forced ? "dane-only" : "dane");
        break;
    case MW_DANE_FAIL:
        mw_tlsq_reply(q, MW_TLS_TEMP, "DANE: %s", v->reason);
        break;
    }
}

/* Answer every waiting question with v and free the job. */
static void
mw_dane_job_finish(struct mw_dane_job *j, const struct mw_dane_verdict *v)
{
    struct mw_tlsq **waiting = j->waiting;
    size_t n = j->n;

    /* Unlinked first: an answer may run other plugins, and new questions start a new job. */
    LIST_REMOVE(j, link);
    for (size_t i = 0; i < n; i++)
        mw_dane_reply(j->s, waiting[i], v);
    mw_free(&waiting);
    mw_free(&j);
}

/* ---- cache ------------------------------------------------------------- */

static void
mw_dane_key(char *out, size_t size, const char *prefix, const char *domain)
{
    snprintf(out, size, "%s:%s", prefix, domain);
}

static void
mw_dane_cache_set(struct mw_dane_job *j, const char *prefix, const struct mw_dane_verdict *v,
                  unsigned int ttl)
{
    const struct mw_host *h = j->s->host;
    char key[MW_DOMAIN_MAX + 32];
    struct mw_buf b;

    if (h->cache == NULL || ttl == 0)
        return;
    mw_dane_key(key, sizeof(key), prefix, j->domain);
    mw_buf_init(&b);
    mw_dane_verdict_format(v, &b);
    mw_cache_set_async(h->cache, h->base, key, b.data, b.len, ttl);
    mw_buf_release(&b);
}

static void
mw_dane_on_stale(void *arg, int found, const void *val, size_t len)
{
    struct mw_dane_job *j = arg;
    struct mw_dane_verdict v;
    struct mw_err err;

    if (found && mw_dane_verdict_parse(val, len, &v, &err) == 0 &&
        (v.cls == MW_DANE_ALL || v.cls == MW_DANE_SOME)) {
        mw_log_warn("dane: %s: %s: answering the last verdict (%s: %s)", j->domain,
                    j->failed.reason, mw_dane_class_name(v.cls), v.reason);
        mw_dane_count("stale");
        mw_dane_job_finish(j, &v);
        return;
    }
    mw_dane_job_finish(j, &j->failed);
}

static unsigned int
mw_dane_bound_ttl(const struct mw_dane_state *s, uint32_t ttl)
{
    if (ttl < s->min_ttl)
        return s->min_ttl;
    return ttl > s->max_ttl ? s->max_ttl : (unsigned int)ttl;
}

/* The walk's verdict: cache it, or after a failure look for the last good one. */
static void
mw_dane_on_verdict(void *arg, const struct mw_dane_verdict *v)
{
    struct mw_dane_job *j = arg;
    struct mw_dane_state *s = j->s;
    const struct mw_host *h = s->host;
    char key[MW_DOMAIN_MAX + 32];

    mw_dane_count(mw_dane_class_name(v->cls));
    if (v->cls == MW_DANE_FAIL) {
        mw_log_warn("dane: %s: %s", j->domain, v->reason);
        if (s->stale_ttl == 0 || h->cache == NULL) {
            mw_dane_job_finish(j, v);
            return;
        }
        j->failed = *v;
        mw_dane_key(key, sizeof(key), "dane-last", j->domain);
        mw_cache_get_async(h->cache, h->base, key, mw_dane_on_stale, j);
        return;
    }
    mw_log_info("dane: %s: %s (%s), cached %u s", j->domain, mw_dane_class_name(v->cls), v->reason,
                mw_dane_bound_ttl(s, v->ttl));
    mw_dane_cache_set(j, "dane", v, mw_dane_bound_ttl(s, v->ttl));
    if (v->cls != MW_DANE_NONE)
        mw_dane_cache_set(j, "dane-last", v, s->stale_ttl);
    mw_dane_job_finish(j, v);
}

/* No cached verdict: walk the DNS. */
static void
mw_dane_walk(struct mw_dane_job *j)
{
    const struct mw_host *h = j->s->host;
    struct mw_dane_verdict v;
    struct mw_err err;

    if (h->dns != NULL &&
        mw_dane_lookup_start(h->dns, h->base, j->domain, mw_dane_on_verdict, j, &err) == 0)
        return;
    memset(&v, 0, sizeof(v));
    v.cls = MW_DANE_FAIL;
    snprintf(v.reason, sizeof(v.reason), "cannot look up %s: %.300s", j->domain,
             h->dns != NULL ? err.text : "no resolver");
    mw_log_warn("dane: %s", v.reason);
    mw_dane_job_finish(j, &v);
}

static void
mw_dane_on_cached(void *arg, int found, const void *val, size_t len)
{
    struct mw_dane_job *j = arg;
    struct mw_dane_verdict v;
    struct mw_err err;

    if (found) {
        if (mw_dane_verdict_parse(val, len, &v, &err) == 0) {
            mw_log_debug("dane: %s: cached %s (%s)", j->domain, mw_dane_class_name(v.cls),
                         v.reason);
            mw_dane_count("cached");
            mw_dane_job_finish(j, &v);
            return;
        }
        mw_log_warn("dane: %s: ignoring the cached value: %s", j->domain, err.text);
    }
    mw_dane_walk(j);
}

/* ---- the plugin -------------------------------------------------------- */

static void
mw_dane_tls_policy(void *state, struct mw_tlsq *q)
{
    struct mw_dane_state *s = state;
    const struct mw_host *h = s->host;
    const char *domain = mw_tlsq_domain(q);
    struct mw_dane_job *j;
    char key[MW_DOMAIN_MAX + 32];

    if (mw_tlsq_is_parent(q) || !s->validating || h->cache == NULL || h->base == NULL ||
        strlen(domain) > MW_DOMAIN_MAX) {
        mw_tlsq_reply(q, MW_TLS_NOTFOUND, "%s", "");
        return;
    }
    if ((j = mw_dane_job_find(s, domain)) != NULL) {
        mw_dane_job_wait(j, q);
        return;
    }
    j = mw_calloc(1, sizeof(*j));
    j->s = s;
    snprintf(j->domain, sizeof(j->domain), "%s", domain);
    mw_dane_job_wait(j, q);
    LIST_INSERT_HEAD(&s->jobs[mw_dane_hash(domain)], j, link);
    mw_dane_key(key, sizeof(key), "dane", domain);
    mw_cache_get_async(h->cache, h->base, key, mw_dane_on_cached, j);
}

static int
mw_dane_init(const struct mw_host *host, void **state, struct mw_err *err)
{
    struct mw_dane_state *s = mw_calloc(1, sizeof(*s));

    s->host = host;
    for (size_t i = 0; i < MW_DANE_BUCKETS; i++)
        LIST_INIT(&s->jobs[i]);
    *state = s;
    return 0;
}

static int
mw_dane_configure(void *state, const struct mw_config *cfg, struct mw_err *err)
{
    struct mw_dane_state *s = state;
    long long min = mw_config_int(cfg, "dane", "min_ttl");
    long long max = mw_config_int(cfg, "dane", "max_ttl");

    if (min > max)
        return mw_err_set(err, "%s: [dane] min_ttl (%lld) is above max_ttl (%lld)",
                          mw_config_where(cfg, "dane", "min_ttl"), min, max);
    snprintf(s->level, sizeof(s->level), "%s", mw_config_str(cfg, "dane", "level"));
    s->min_ttl = (unsigned int)min;
    s->max_ttl = (unsigned int)max;
    s->stale_ttl = (unsigned int)mw_config_int(cfg, "dane", "stale_ttl");
    s->validating = *mw_config_str(cfg, "dns", "trust_anchor_file") != '\0';
    if (!s->validating)
        mw_log_warn("dane: [dns] trust_anchor_file is empty: no DNSSEC validation, so DANE "
                    "never applies (every answer is NOTFOUND)");
    mw_log_info("dane: answering \"%s\" for DANE domains; Postfix must run with "
                "smtp_dns_support_level = dnssec and a validating resolver, or it cannot "
                "verify them and defers their mail",
                s->level);
    return 0;
}

static void
mw_dane_fini(void **state)
{
    struct mw_dane_state *s = *state;

    if (s == NULL)
        return;
    /* The host closed the cache and resolver first, so every job has ended. */
    for (size_t i = 0; i < MW_DANE_BUCKETS; i++)
        if (!LIST_EMPTY(&s->jobs[i]))
            mw_log_error("dane: a lookup is still in progress at exit");
    mw_free(state);
}

static const struct mw_policy_hooks mw_dane_hooks = {mw_dane_tls_policy, NULL};

/* Exported; everything else is static. */
const struct mw_plugin mailward_plugin = {
    MW_PLUGIN_ABI, "dane", PACKAGE_VERSION, mw_dane_sections, mw_dane_init, mw_dane_configure,
    mw_dane_fini,  NULL,   &mw_dane_hooks,
};
