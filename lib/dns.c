/*
 * dns.c - the one resolver: libunbound, blocking and on libevent (mw/dns.h).
 *
 * DESIGN
 *   One libunbound context per process, in threaded async mode: libunbound
 *   resolves in its own background thread and hands finished lookups back
 *   through a pipe, ub_fd(). Exactly one thread of ours reads that pipe:
 *   the service thread started by mw_dns_open(), which polls ub_fd() and
 *   calls ub_process(), so libunbound runs every completion callback there.
 *   Both APIs submit with ub_resolve_async() (thread-safe) and differ only
 *   in how the completion reaches the caller:
 *
 *   - blocking (mw_dns_resolve): the caller sleeps on its own condition
 *     variable with a CLOCK_MONOTONIC deadline. The completion callback
 *     stores the result and signals it. libunbound has no per-query time
 *     limit, so at the deadline the caller calls ub_cancel(): UB_NOERROR
 *     means the callback will never run (libunbound checks the cancelled
 *     flag under the same lock) and the answer is TIMEOUT; UB_NOID means
 *     the service thread has already taken the result and is about to
 *     deliver it, so the caller waits for that instead. Either way the
 *     waiter, which lives on the caller's stack, is never touched after it
 *     returns.
 *
 *   - async (mw_dns_resolve_async): the completion callback appends the
 *     query to a done list and writes a byte to a notification pipe whose
 *     read end is an event on the caller's event_base; the loop drains the
 *     list and calls the user callbacks. The time limit is an evtimer on
 *     the same base with the same ub_cancel() rule. The loop only ever
 *     takes a short mutex: it never waits for the network or for another
 *     thread, and no libevent call happens outside the loop's thread, so
 *     libevent needs no thread support.
 *
 *   One context means one cache and one validator for SPF, DKIM, DMARC,
 *   MTA-STS and DANE in the process, whichever API they use. In front of
 *   the blocking API sits [dns] answer_cache (mw/dns-cache.h): a final
 *   answer asked again within its TTL comes back from there without the
 *   hand-off above.
 *
 *   With forwarders, names under "test." (RFC 6761) are left to them rather
 *   than answered NXDOMAIN by libunbound's built-in local zones: a test
 *   setup is exactly what forwards to a private server. (The zone is made
 *   "transparent": ub_ctx_set_option() does not understand "nodefault".)
 *
 * MEMORY
 *   Answers are built from the ub_result, which is freed at once; the
 *   receiver owns the answer. Async queries are owned by this module until
 *   their callback runs.
 *
 * THREADS
 *   See mw/dns.h. Lock order: libunbound's locks are never held while
 *   d->mu is taken (its callbacks run outside them), and d->mu is held
 *   around ub_cancel() only.
 *   Open the resolver after any fork() (detaching): threads do not survive it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <unbound.h>

#include "mw/alloc.h"
#include "mw/dns.h"
#include "mw/dns-cache.h"
#include "mw/log.h"
#include "mw/metrics.h"

enum mw_dns_kind {
    MW_DNS_REQ_SYNC,
    MW_DNS_REQ_ASYNC,
};

/* What libunbound's callback gets: the common head of both kinds of request. */
struct mw_dns_req {
    enum mw_dns_kind kind;
    struct mw_dns *d;
    int id;     /* libunbound's async id, for ub_cancel() */
    int done;   /* the result arrived (under d->mu) */
    int ub_err; /* libunbound error code, 0 if none */
    struct ub_result *res;
    pthread_cond_t *cv; /* SYNC: the waiter's condition variable */
    double started;     /* mw_metrics_now() at submission */
};

/* One async lookup; owned by this module until its callback runs. */
struct mw_dns_query {
    struct mw_dns_req req;
    mw_dns_cb *cb;
    void *arg;
    char *name;
    int qtype;
    struct event *timer;
    struct mw_dns_query *prev, *next; /* d->pending: all not yet delivered (loop thread) */
    struct mw_dns_query *done_next;   /* d->done: results waiting for the loop (d->mu) */
};

struct mw_dns {
    struct ub_ctx *ctx;
    long long timeout_ms;
    pthread_mutex_t mu;
    pthread_t service;
    int stop_pipe[2];   /* wakes the service thread to exit */
    int notify_pipe[2]; /* wakes the event loop: done list not empty */
    struct event_base *base;
    struct event *notify_ev;
    int closing; /* in mw_dns_close: callbacks may not start new lookups */
    struct mw_dns_query *pending;
    struct mw_dns_query *done_head, **done_tail;
    struct mw_dns_cache *cache;                      /* [dns] answer_cache; NULL: off */
    struct mw_counter *m_cache_hits;                 /* mailward_dns_cache_hits_total */
    struct mw_histogram *m_time;                     /* mailward_dns_query_duration_seconds */
    struct mw_counter *m_result[MW_DNS_TIMEOUT + 1]; /* mailward_dns_queries_total */
};

/* ---- metrics ---------------------------------------------------------- */

static void
mw_dns_metrics_init(struct mw_dns *d)
{
    static const char *const results[] = {"ok", "nxdomain", "nodata", "tempfail", "timeout"};
    char labels[32];

    d->m_time = mw_metrics_histogram("mailward_dns_query_duration_seconds", "",
                                     "Time from a DNS query to its answer (or time-out)", NULL, 0);
    for (size_t i = 0; i <= MW_DNS_TIMEOUT; i++) {
        snprintf(labels, sizeof(labels), "result=\"%s\"", results[i]);
        d->m_result[i] = mw_metrics_counter("mailward_dns_queries_total", labels,
                                            "DNS queries answered, per result");
    }
    d->m_cache_hits = mw_metrics_counter("mailward_dns_cache_hits_total", "",
                                         "Blocking lookups answered from [dns] answer_cache");
}

/* Count one answer (any thread: atomics only). */
static void
mw_dns_account(const struct mw_dns *d, const struct mw_dns_req *r, const struct mw_dns_answer *a)
{
    mw_histogram_observe(d->m_time, mw_metrics_now() - r->started);
    if ((size_t)a->status <= MW_DNS_TIMEOUT)
        mw_counter_inc(d->m_result[a->status]);
}

/* ---- answers ---------------------------------------------------------- */

static struct mw_dns_answer *
mw_dns_answer_new(const char *name, int qtype, enum mw_dns_status status)
{
    struct mw_dns_answer *a = mw_calloc(1, sizeof(*a));

    a->status = status;
    a->dnssec = MW_DNSSEC_INSECURE;
    a->qname = mw_strdup(name);
    a->qtype = qtype;
    return a;
}

static struct mw_dns_answer *
mw_dns_answer_error(const char *name, int qtype, enum mw_dns_status status, const char *why)
{
    struct mw_dns_answer *a = mw_dns_answer_new(name, qtype, status);

    a->error = mw_strdup(why);
    return a;
}

static struct mw_dns_answer *
mw_dns_answer_timeout(const struct mw_dns *d, const char *name, int qtype)
{
    char why[64];

    snprintf(why, sizeof(why), "no answer within %lld ms", d->timeout_ms);
    return mw_dns_answer_error(name, qtype, MW_DNS_TIMEOUT, why);
}

/* libunbound names end with a dot; ours do not. NULL when it is the name asked. */
static char *
mw_dns_canonname(const char *qname, const char *canon)
{
    size_t ql = strlen(qname), cl;

    if (canon == NULL)
        return NULL;
    cl = strlen(canon);
    if (ql > 0 && qname[ql - 1] == '.')
        ql--;
    if (cl > 1 && canon[cl - 1] == '.')
        cl--;
    if (ql == cl && strncasecmp(qname, canon, cl) == 0)
        return NULL;
    return mw_strndup(canon, cl);
}

static void
mw_dns_answer_records(struct mw_dns_answer *a, const struct ub_result *res)
{
    size_t n = 0;

    while (res->data[n] != NULL)
        n++;
    a->rr = mw_calloc(n ? n : 1, sizeof(*a->rr));
    for (size_t i = 0; i < n; i++) {
        size_t len = res->len[i] > 0 ? (size_t)res->len[i] : 0;

        a->rr[i].data = mw_malloc(len);
        memcpy(a->rr[i].data, res->data[i], len);
        a->rr[i].len = len;
    }
    a->count = n;
}

/* Translate libunbound's result; res may be NULL when ub_err is set. */
static struct mw_dns_answer *
mw_dns_answer_from(const char *name, int qtype, int ub_err, const struct ub_result *res)
{
    struct mw_dns_answer *a;

    if (ub_err != 0 || res == NULL)
        return mw_dns_answer_error(name, qtype, MW_DNS_TEMPFAIL, ub_strerror(ub_err));
    a = mw_dns_answer_new(name, qtype, MW_DNS_TEMPFAIL);
    a->rcode = res->rcode;
    a->dnssec = res->secure ? MW_DNSSEC_SECURE : MW_DNSSEC_INSECURE;
    if (res->bogus) {
        a->dnssec = MW_DNSSEC_BOGUS;
        a->why_bogus = mw_strdup(res->why_bogus ? res->why_bogus : "validation failure");
        a->error = mw_strdup("DNSSEC validation failed");
        return a;
    }
    if (res->rcode == 0 && res->havedata) {
        a->status = MW_DNS_OK;
        mw_dns_answer_records(a, res);
    } else if (res->rcode == 0) {
        a->status = MW_DNS_NODATA;
    } else if (res->rcode == 3) {
        a->status = MW_DNS_NXDOMAIN;
    } else {
        char why[32];

        snprintf(why, sizeof(why), "DNS rcode %d", res->rcode);
        a->error = mw_strdup(why);
        return a;
    }
    a->ttl = res->ttl > 0 ? (uint32_t)res->ttl : 0;
    a->canonname = mw_dns_canonname(name, res->canonname);
    return a;
}

struct mw_dns_answer *
mw_dns_answer_copy(const struct mw_dns_answer *a)
{
    struct mw_dns_answer *b = mw_calloc(1, sizeof(*b));

    *b = *a;
    b->qname = mw_strdup(a->qname);
    b->canonname = mw_strdup(a->canonname);
    b->why_bogus = mw_strdup(a->why_bogus);
    b->error = mw_strdup(a->error);
    b->rr = mw_calloc(a->count ? a->count : 1, sizeof(*b->rr));
    for (size_t i = 0; i < a->count; i++) {
        b->rr[i].data = mw_malloc(a->rr[i].len ? a->rr[i].len : 1);
        memcpy(b->rr[i].data, a->rr[i].data, a->rr[i].len);
        b->rr[i].len = a->rr[i].len;
    }
    return b;
}

void
mw_dns_answer_free(struct mw_dns_answer **ap)
{
    struct mw_dns_answer *a = *ap;

    if (a == NULL)
        return;
    for (size_t i = 0; i < a->count; i++)
        mw_free(&a->rr[i].data);
    mw_free(&a->rr);
    mw_free(&a->qname);
    mw_free(&a->canonname);
    mw_free(&a->why_bogus);
    mw_free(&a->error);
    mw_free(ap);
}

/* ---- the service thread ----------------------------------------------- */

/* libunbound's completion callback; runs in the service thread, inside ub_process(). */
static void
mw_dns_ub_done(void *arg, int ub_err, struct ub_result *res)
{
    struct mw_dns_req *r = arg;
    struct mw_dns *d = r->d;
    int notify = 0;

    pthread_mutex_lock(&d->mu);
    r->ub_err = ub_err;
    r->res = res;
    r->done = 1;
    if (r->kind == MW_DNS_REQ_SYNC) {
        pthread_cond_signal(r->cv);
    } else {
        struct mw_dns_query *q = (struct mw_dns_query *)r;

        notify = d->done_head == NULL;
        q->done_next = NULL;
        *d->done_tail = q;
        d->done_tail = &q->done_next;
    }
    /* After this unlock r may be freed by its owner: do not touch it. */
    pthread_mutex_unlock(&d->mu);
    if (notify && write(d->notify_pipe[1], "", 1) < 0 && errno != EAGAIN)
        mw_log_error("dns: cannot wake the event loop: %s", strerror(errno));
}

static void *
mw_dns_service(void *arg)
{
    struct mw_dns *d = arg;
    struct pollfd p[2] = {
        {.fd = ub_fd(d->ctx), .events = POLLIN},
        {.fd = d->stop_pipe[0], .events = POLLIN},
    };

    for (;;) {
        int r;

        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            mw_log_panic("dns: poll: %s", strerror(errno));
        }
        if (p[1].revents != 0)
            break;
        if (p[0].revents & POLLNVAL)
            mw_log_panic("dns: libunbound's descriptor is closed");
        if (p[0].revents != 0 && (r = ub_process(d->ctx)) != 0)
            mw_log_error("dns: ub_process: %s", ub_strerror(r));
    }
    return NULL;
}

/* ---- open / close ----------------------------------------------------- */

static int
mw_dns_set(struct ub_ctx *ctx, const char *opt, const char *val, struct mw_err *err)
{
    int r = ub_ctx_set_option(ctx, opt, val);

    if (r != 0)
        return mw_err_set(err, "dns: libunbound option %s %s: %s", opt, val, ub_strerror(r));
    return 0;
}

static int
mw_dns_configure(struct ub_ctx *ctx, const struct mw_config *cfg, struct mw_err *err)
{
    size_t n;
    char **fwd = mw_config_list(cfg, "dns", "forwarders", &n);
    const char *ta = mw_config_str(cfg, "dns", "trust_anchor_file");
    int rc = 0, r;

    if ((r = ub_ctx_async(ctx, 1)) != 0)
        rc = mw_err_set(err, "dns: ub_ctx_async: %s", ub_strerror(r));
    for (size_t i = 0; rc == 0 && i < n; i++)
        if ((r = ub_ctx_set_fwd(ctx, fwd[i])) != 0)
            rc = mw_err_set(err, "dns: forwarder %s: %s", fwd[i], ub_strerror(r));
    /* A forwarder on this host (a local unbound) is the common case. */
    if (rc == 0 && n > 0 &&
        (mw_dns_set(ctx, "do-not-query-localhost:", "no", err) < 0 ||
         mw_dns_set(ctx, "local-zone:", "test. transparent", err) < 0))
        rc = -1;
    if (rc == 0 && ta[0] != '\0') {
        /* libunbound reads the file only at the first lookup: fail here instead. */
        if (access(ta, R_OK) != 0)
            rc = mw_err_set(err, "dns: trust_anchor_file %s: %s", ta, strerror(errno));
        else if ((r = ub_ctx_add_ta_file(ctx, ta)) != 0)
            rc = mw_err_set(err, "dns: trust_anchor_file %s: %s", ta, ub_strerror(r));
    }
    mw_strv_free(&fwd);
    return rc;
}

static int
mw_dns_pipe(int fds[2], struct mw_err *err)
{
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
        return mw_err_set(err, "dns: pipe: %s", strerror(errno));
    return 0;
}

struct mw_dns *
mw_dns_open(const struct mw_config *cfg, struct mw_err *err)
{
    struct mw_dns *d = mw_calloc(1, sizeof(*d));
    sigset_t all, old;
    int r;

    d->stop_pipe[0] = d->stop_pipe[1] = d->notify_pipe[0] = d->notify_pipe[1] = -1;
    d->timeout_ms = mw_config_int(cfg, "dns", "timeout_ms");
    d->cache = mw_dns_cache_new((size_t)mw_config_int(cfg, "dns", "answer_cache"));
    d->done_tail = &d->done_head;
    mw_dns_metrics_init(d);
    pthread_mutex_init(&d->mu, NULL);
    d->ctx = ub_ctx_create();
    if (d->ctx == NULL) {
        mw_err_set(err, "dns: ub_ctx_create failed");
        goto fail;
    }
    if (mw_dns_configure(d->ctx, cfg, err) < 0 || mw_dns_pipe(d->stop_pipe, err) < 0 ||
        mw_dns_pipe(d->notify_pipe, err) < 0)
        goto fail;
    /* Signals are for the daemon's main thread, not for ours. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    r = pthread_create(&d->service, NULL, mw_dns_service, d);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r != 0) {
        mw_err_set(err, "dns: pthread_create: %s", strerror(r));
        goto fail;
    }
    return d;

fail:
    if (d->ctx != NULL)
        ub_ctx_delete(d->ctx);
    for (int i = 0; i < 2; i++) {
        if (d->stop_pipe[i] >= 0)
            close(d->stop_pipe[i]);
        if (d->notify_pipe[i] >= 0)
            close(d->notify_pipe[i]);
    }
    pthread_mutex_destroy(&d->mu);
    mw_dns_cache_free(&d->cache);
    mw_free(&d);
    return NULL;
}

static void mw_dns_deliver(struct mw_dns_query *q, struct mw_dns_answer *a);
static void mw_dns_deliver_done(struct mw_dns *d);

void
mw_dns_close(struct mw_dns **dp)
{
    struct mw_dns *d = *dp;

    if (d == NULL)
        return;
    d->closing = 1;
    if (write(d->stop_pipe[1], "", 1) < 0)
        mw_log_panic("dns: cannot stop the service thread: %s", strerror(errno));
    pthread_join(d->service, NULL);
    /* No completion can arrive any more: what is not on the done list is cancelled. */
    mw_dns_deliver_done(d);
    while (d->pending != NULL) {
        struct mw_dns_query *q = d->pending;

        (void)ub_cancel(d->ctx, q->req.id);
        mw_dns_deliver(q,
                       mw_dns_answer_error(q->name, q->qtype, MW_DNS_TEMPFAIL, "resolver closed"));
    }
    if (d->notify_ev != NULL)
        event_free(d->notify_ev);
    ub_ctx_delete(d->ctx);
    for (int i = 0; i < 2; i++) {
        close(d->stop_pipe[i]);
        close(d->notify_pipe[i]);
    }
    pthread_mutex_destroy(&d->mu);
    mw_dns_cache_free(&d->cache);
    mw_free(dp);
}

/* ---- blocking --------------------------------------------------------- */

static void
mw_dns_deadline(struct timespec *ts, long long ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Wait for the waiter's result until the deadline; 1 if it timed out (cancelled). */
static int
mw_dns_wait(struct mw_dns *d, struct mw_dns_req *r, const struct timespec *deadline)
{
    int timed_out = 0;

    pthread_mutex_lock(&d->mu);
    while (!r->done) {
        int rc = pthread_cond_timedwait(r->cv, &d->mu, deadline);

        if (rc == ETIMEDOUT && !r->done) {
            if (ub_cancel(d->ctx, r->id) == UB_NOERROR) {
                timed_out = 1;
                break;
            }
            /* The service thread holds the result already: it is moments away. */
            while (!r->done)
                pthread_cond_wait(r->cv, &d->mu);
        }
    }
    pthread_mutex_unlock(&d->mu);
    return timed_out;
}

int
mw_dns_resolve(struct mw_dns *d, const char *name, int rrtype, struct mw_dns_answer **out,
               struct mw_err *err)
{
    struct mw_dns_req r = {.kind = MW_DNS_REQ_SYNC, .d = d};
    pthread_condattr_t ca;
    pthread_cond_t cv;
    struct timespec deadline;
    int ub;

    *out = NULL;
    if (mw_dns_name_check(name, err) < 0)
        return -1;
    if ((*out = mw_dns_cache_get(d->cache, name, rrtype, mw_metrics_now())) != NULL) {
        mw_counter_inc(d->m_cache_hits);
        return 0;
    }
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cv, &ca);
    pthread_condattr_destroy(&ca);
    r.cv = &cv;
    mw_dns_deadline(&deadline, d->timeout_ms);
    r.started = mw_metrics_now();
    ub = ub_resolve_async(d->ctx, name, rrtype, 1, &r, mw_dns_ub_done, &r.id);
    if (ub != 0) {
        pthread_cond_destroy(&cv);
        return mw_err_set(err, "dns: %s: %s", name, ub_strerror(ub));
    }
    if (mw_dns_wait(d, &r, &deadline))
        *out = mw_dns_answer_timeout(d, name, rrtype);
    else
        *out = mw_dns_answer_from(name, rrtype, r.ub_err, r.res);
    mw_dns_account(d, &r, *out);
    mw_dns_cache_put(d->cache, *out, mw_metrics_now());
    if (r.res != NULL)
        ub_resolve_free(r.res);
    pthread_cond_destroy(&cv);
    return 0;
}

/* ---- async ------------------------------------------------------------ */

/* Hand the answer to the user and forget the query (loop thread). */
static void
mw_dns_deliver(struct mw_dns_query *q, struct mw_dns_answer *a)
{
    struct mw_dns *d = q->req.d;
    mw_dns_cb *cb = q->cb;
    void *arg = q->arg;

    if (q->prev != NULL)
        q->prev->next = q->next;
    else
        d->pending = q->next;
    if (q->next != NULL)
        q->next->prev = q->prev;
    event_free(q->timer);
    if (q->req.res != NULL)
        ub_resolve_free(q->req.res);
    mw_dns_account(d, &q->req, a);
    mw_free(&q->name);
    mw_free(&q);
    cb(arg, a);
}

static void
mw_dns_deliver_done(struct mw_dns *d)
{
    struct mw_dns_query *list;

    pthread_mutex_lock(&d->mu);
    list = d->done_head;
    d->done_head = NULL;
    d->done_tail = &d->done_head;
    pthread_mutex_unlock(&d->mu);
    while (list != NULL) {
        struct mw_dns_query *q = list;

        list = q->done_next;
        mw_dns_deliver(q, mw_dns_answer_from(q->name, q->qtype, q->req.ub_err, q->req.res));
    }
}

static void
mw_dns_on_notify(evutil_socket_t fd, short what, void *arg)
{
    char buf[256];

    (void)what;
    while (read(fd, buf, sizeof(buf)) > 0)
        continue;
    mw_dns_deliver_done(arg);
}

static void
mw_dns_on_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct mw_dns_query *q = arg;
    struct mw_dns *d = q->req.d;
    int cancelled;

    (void)fd;
    (void)what;
    pthread_mutex_lock(&d->mu);
    cancelled = ub_cancel(d->ctx, q->req.id) == UB_NOERROR;
    pthread_mutex_unlock(&d->mu);
    /* Not cancelled: the result is on the done list or about to be; it wins. */
    if (cancelled)
        mw_dns_deliver(q, mw_dns_answer_timeout(d, q->name, q->qtype));
}

static int
mw_dns_bind_base(struct mw_dns *d, struct event_base *base, struct mw_err *err)
{
    if (d->base == base)
        return 0;
    if (d->base != NULL)
        return mw_err_set(err, "dns: the resolver already serves another event loop");
    d->notify_ev = event_new(base, d->notify_pipe[0], EV_READ | EV_PERSIST, mw_dns_on_notify, d);
    if (d->notify_ev == NULL || event_add(d->notify_ev, NULL) < 0) {
        if (d->notify_ev != NULL)
            event_free(d->notify_ev);
        d->notify_ev = NULL;
        return mw_err_set(err, "dns: cannot add an event to the loop");
    }
    d->base = base;
    return 0;
}

int
mw_dns_resolve_async(struct mw_dns *d, struct event_base *base, const char *name, int rrtype,
                     mw_dns_cb *cb, void *arg, struct mw_err *err)
{
    struct mw_dns_query *q;
    struct timeval tv = {.tv_sec = d->timeout_ms / 1000,
                         .tv_usec = (suseconds_t)(d->timeout_ms % 1000) * 1000};
    int ub;

    if (d->closing)
        return mw_err_set(err, "dns: the resolver is closing");
    if (mw_dns_name_check(name, err) < 0 || mw_dns_bind_base(d, base, err) < 0)
        return -1;
    q = mw_calloc(1, sizeof(*q));
    q->req.kind = MW_DNS_REQ_ASYNC;
    q->req.d = d;
    q->cb = cb;
    q->arg = arg;
    q->name = mw_strdup(name);
    q->qtype = rrtype;
    q->timer = evtimer_new(base, mw_dns_on_timeout, q);
    if (q->timer == NULL)
        mw_log_panic("dns: evtimer_new failed");
    q->req.started = mw_metrics_now();
    /* The completion is delivered by the loop, so it cannot overtake the lines below. */
    ub = ub_resolve_async(d->ctx, name, rrtype, 1, &q->req, mw_dns_ub_done, &q->req.id);
    if (ub != 0) {
        event_free(q->timer);
        mw_free(&q->name);
        mw_free(&q);
        return mw_err_set(err, "dns: %s: %s", name, ub_strerror(ub));
    }
    q->next = d->pending;
    if (d->pending != NULL)
        d->pending->prev = q;
    d->pending = q;
    evtimer_add(q->timer, &tv);
    return 0;
}
