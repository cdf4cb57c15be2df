/*
 * mta-sts.c - the mta-sts plugin: RFC 8461 MTA-STS policies for
 * mailward-policyd's smtp_tls_policy_maps socketmap.
 *
 * For next-hop DOMAIN the answer is what postfix-mta-sts-resolver answers,
 * so a site can switch between the two:
 *   mode enforce                 OK secure match=P1:P2 servername=hostname
 *                                ("*.example.net" becomes ".example.net")
 *   mode testing, none, no policy, parent-domain keys (".example.net")
 *                                NOTFOUND (the next plugin is asked)
 * testing_answer = enforce answers testing policies like enforce ones;
 * tlsrpt = yes appends Postfix 3.10's TLSRPT attributes (policy.h). An
 * enforced policy too long for a socketmap answer is answered TEMP.
 *
 * A lookup reads the shared cache (entry.h, key "mta-sts:DOMAIN"). A cached
 * policy answers at once; when its TXT check is due, a background job
 * (job.c) checks the id and re-fetches when it changed or when half of
 * max_age has passed, so the policy is refreshed before it expires. A
 * cached "none" answers NOTFOUND at once. On a miss the lookup waits for
 * the domain's job (one per domain at a time, shared by every lookup).
 *
 * Settings ([mta-sts], declared below): ca_file, timeout, recheck_interval,
 * negative_ttl, testing_answer, tlsrpt. configure() only swaps settings;
 * running jobs keep the values they started with where it matters (a fetch
 * in progress keeps its CA file and time limit).
 *
 * fini: the daemon's resolver and cache can only deliver pending callbacks,
 * not cancel them, and the module is unloaded right after fini; so fini
 * ends every job and runs the event loop until the last DNS or cache
 * callback addressed to this module has come (each is bounded by the
 * [dns] and [cache] time limits).
 *
 * Event-loop thread only, as every policy plugin.
 */
#include "config.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mta-sts.h"
#include "near.h"
#include "mw/alloc.h"
#include "mw/cache.h"
#include "mw/fileperm.h"
#include "mw/log.h"

/* fini gives pending callbacks at most this long (they are bounded far below it). */
#define MW_STS_DRAIN_SECONDS 60

static int
mw_sts_check_ca_file(const char *v, struct mw_err *err)
{
    if (access(v, R_OK) < 0)
        return mw_err_set(err, "%s: cannot read: %m", v);
    return 0;
}

static const struct mw_cfg_key mw_sts_keys[] = {
    {"ca_file", MW_CFG_STRING, "", 0, 0, NULL, mw_sts_check_ca_file,
     "CA bundle (PEM) that policy hosts' certificates must chain to, instead of the system "
     "store; empty = the system store."},
    {"timeout", MW_CFG_INT, "10", 1, 60, NULL, NULL,
     "Seconds one discovery may take (TXT lookup, policy host lookup and HTTPS fetch "
     "together); keep it below [policyd] request_timeout."},
    {"recheck_interval", MW_CFG_INT, "3600", 1, 86400, NULL, NULL,
     "Seconds between checks of the _mta-sts TXT id of a cached policy; a changed id means a "
     "new fetch (at most a day: RFC 8461 asks for at least daily checks)."},
    {"negative_ttl", MW_CFG_INT, "600", 0, 86400, NULL, NULL,
     "Seconds a domain without a usable policy (no record, failed fetch) is remembered; "
     "also the retry interval of a failed refresh. 0 = ask every time."},
    {"testing_answer", MW_CFG_ENUM, "notfound", 0, 0, "notfound|enforce", NULL,
     "What a mode testing policy answers: notfound (deliver as usual, like "
     "postfix-mta-sts-resolver) or enforce (like its strict_testing)."},
    {"tlsrpt", MW_CFG_BOOL, "no", 0, 0, NULL, NULL,
     "Append the TLSRPT attributes of Postfix 3.10 (policy_type, policy_domain, "
     "mx_host_pattern, policy_string); older Postfix defers on them."},
    {NULL, 0, NULL, 0, 0, NULL, NULL, NULL},
};

static const struct mw_cfg_section mw_sts_section = {
    "mta-sts", "MTA-STS policies for outbound TLS (plugin mta-sts).", mw_sts_keys};

static const struct mw_cfg_section *const mw_sts_sections[] = {&mw_sts_section, NULL};

void
mw_sts_cache_key(const char *domain, char *key, size_t size)
{
    snprintf(key, size, "mta-sts:%s", domain);
}

void
mw_sts_reply(struct mw_sts *s, struct mw_tlsq *q, const char *domain, const struct mw_sts_policy *p)
{
    struct mw_buf b;
    struct mw_err err;

    if (p == NULL || p->mode == MW_STS_MODE_NONE ||
        (p->mode == MW_STS_MODE_TESTING && !s->set.testing_enforce)) {
        mw_tlsq_reply(q, MW_TLS_NOTFOUND, "%s", "");
        return;
    }
    mw_buf_init(&b);
    if (mw_sts_policy_answer(p, domain, s->set.tlsrpt, MW_POLICY_ANSWER_MAX, &b, &err) < 0) {
        mw_log_error("mta-sts: %s: the policy cannot be answered: %s", domain, err.text);
        mw_tlsq_reply(q, MW_TLS_TEMP, "MTA-STS policy of %s too long for Postfix", domain);
    } else {
        mw_tlsq_reply(q, MW_TLS_OK, "%s", b.data);
    }
    mw_buf_release(&b);
}

static int
mw_sts_init(const struct mw_host *host, void **state, struct mw_err *err)
{
    struct mw_sts *s;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return mw_err_set(err, "mta-sts: libcurl does not initialise");
    s = mw_calloc(1, sizeof(*s));
    s->host = host;
    for (size_t b = 0; b < MW_STS_BUCKETS; b++)
        LIST_INIT(&s->jobs[b]);
    s->set.ca_file = mw_strdup("");
    s->near = mw_sts_near_new();
    *state = s;
    return 0;
}

static int
mw_sts_configure(void *state, const struct mw_config *cfg, struct mw_err *err)
{
    struct mw_sts *s = state;
    const char *ca = mw_config_str(cfg, "mta-sts", "ca_file");

    /* Whoever can write the CA file decides which policy hosts are trusted. */
    if (*ca && mw_fileperm_check(cfg, ca, MW_FILEPERM_TABLE, err) < 0)
        return -1;
    mw_free(&s->set.ca_file);
    s->set.ca_file = mw_strdup(mw_config_str(cfg, "mta-sts", "ca_file"));
    s->set.timeout_ms = (long)mw_config_int(cfg, "mta-sts", "timeout") * 1000;
    s->set.recheck = (long)mw_config_int(cfg, "mta-sts", "recheck_interval");
    s->set.negative_ttl = (long)mw_config_int(cfg, "mta-sts", "negative_ttl");
    s->set.testing_enforce =
        strcmp(mw_config_str(cfg, "mta-sts", "testing_answer"), "enforce") == 0;
    s->set.tlsrpt = mw_config_bool(cfg, "mta-sts", "tlsrpt");
    return 0;
}

static void
mw_sts_fini(void **state)
{
    struct mw_sts *s = *state;
    time_t until;

    if (s == NULL)
        return;
    s->closing = 1;
    mw_sts_jobs_abort(s);
    mw_sts_fetcher_free(&s->fetcher);
    until = time(NULL) + MW_STS_DRAIN_SECONDS;
    while (s->pending > 0 && s->host->base != NULL && time(NULL) < until)
        if (event_base_loop(s->host->base, EVLOOP_ONCE) < 0)
            break;
    if (s->pending > 0)
        mw_log_error("mta-sts: %zu resolver or cache callbacks still pending at exit", s->pending);
    mw_free(&s->set.ca_file);
    mw_sts_near_free(&s->near);
    mw_free(state);
    curl_global_cleanup();
}

/* A cache lookup in progress for one question. */
struct mw_sts_lookup {
    struct mw_sts *s;
    struct mw_tlsq *q;
    char domain[MW_DOMAIN_MAX + 1];
};

/* Decode and parse a cached value; NULL (a miss) when unusable or expired. */
static struct mw_sts_cached *
mw_sts_cached_parse(const char *domain, const void *val, size_t len, long long now, int *none)
{
    struct mw_sts_cached *c = mw_calloc(1, sizeof(*c));
    struct mw_err err;

    *none = 0;
    if (mw_sts_entry_decode(val, len, &c->e, &err) < 0) {
        mw_log_warn("mta-sts: %s: ignoring the cached value: %s", domain, err.text);
        mw_sts_cached_free(&c);
        return NULL;
    }
    if (!c->e.has_policy) {
        *none = 1;
        mw_sts_cached_free(&c);
        return NULL;
    }
    c->body = mw_strndup(c->e.body, c->e.body_len);
    c->e.body = c->body;
    if (mw_sts_policy_parse(c->body, c->e.body_len, &c->p, &err) < 0) {
        mw_log_warn("mta-sts: %s: ignoring the cached policy: %s", domain, err.text);
        mw_sts_cached_free(&c);
        return NULL;
    }
    if (now >= c->e.fetched + (long long)c->p->max_age) {
        mw_sts_cached_free(&c);
        return NULL;
    }
    return c;
}

static void
mw_sts_on_cache(void *arg, int found, const void *val, size_t len)
{
    struct mw_sts_lookup *l = arg;
    struct mw_sts *s = l->s;
    struct mw_sts_cached *c = NULL;
    struct mw_sts_job *j;
    long long now = (long long)time(NULL);
    int none = 0;

    s->pending--;
    if (s->closing) {
        mw_free(&l);
        return;
    }
    if (found)
        c = mw_sts_cached_parse(l->domain, val, len, now, &none);
    if (none) {
        mw_tlsq_reply(l->q, MW_TLS_NOTFOUND, "%s", "");
    } else if (c != NULL) {
        mw_sts_reply(s, l->q, l->domain, c->p);
        if (now >= c->e.next_check && mw_sts_job_find(s, l->domain) == NULL) {
            mw_log_debug("mta-sts: %s: checking the policy id in the background", l->domain);
            mw_sts_job_run(mw_sts_job_new(s, l->domain, c));
        } else {
            mw_sts_near_put(s->near, l->domain, c);
        }
    } else if ((j = mw_sts_job_find(s, l->domain)) != NULL) {
        mw_sts_job_wait(j, l->q);
    } else {
        j = mw_sts_job_new(s, l->domain, NULL);
        mw_sts_job_wait(j, l->q);
        mw_sts_job_run(j);
    }
    mw_free(&l);
}

static void
mw_sts_tls_policy(void *state, struct mw_tlsq *q)
{
    struct mw_sts *s = state;
    const struct mw_host *h = s->host;
    struct mw_sts_lookup *l;
    const struct mw_sts_cached *near;
    char key[MW_DOMAIN_MAX + 16];

    /* Policies are per domain: a parent-domain key never has one of its own. */
    if (mw_tlsq_is_parent(q) || h->dns == NULL || h->cache == NULL || h->base == NULL) {
        mw_tlsq_reply(q, MW_TLS_NOTFOUND, "%s", "");
        return;
    }
    if ((near = mw_sts_near_get(s->near, mw_tlsq_domain(q))) != NULL) {
        mw_sts_reply(s, q, mw_tlsq_domain(q), near->p);
        return;
    }
    l = mw_calloc(1, sizeof(*l));
    l->s = s;
    l->q = q;
    snprintf(l->domain, sizeof(l->domain), "%s", mw_tlsq_domain(q));
    mw_sts_cache_key(l->domain, key, sizeof(key));
    s->pending++;
    mw_cache_get_async(h->cache, h->base, key, mw_sts_on_cache, l);
}

static const struct mw_policy_hooks mw_sts_hooks = {
    mw_sts_tls_policy,
    NULL,
};

/* Exported; everything else is static. */
const struct mw_plugin mailward_plugin = {
    MW_PLUGIN_ABI, "mta-sts", PACKAGE_VERSION, mw_sts_sections, mw_sts_init, mw_sts_configure,
    mw_sts_fini,   NULL,      &mw_sts_hooks,
};
