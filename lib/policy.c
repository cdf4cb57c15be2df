/*
 * policy.c - asking mailward-policyd's plugin chain (see mw/policy-host.h
 * for the host side, mw/policy.h for what plugins see).
 *
 * Both question types run the same small state machine: `next` is the
 * plugin to ask, `pending` is set while a plugin holds the question and
 * `in_hook` while its hook is on the stack. An answer given inside the hook
 * only records itself and the loop in the driver moves on; an answer given
 * later from the event loop re-enters the driver. So a chain of plugins that
 * all answer at once never recurses, and one that answers later never blocks.
 *
 * Answers are checked before they reach a client: a policy or action is one
 * line of printable text of bounded length. A plugin breaking that rule gets
 * its answer replaced with a temporary failure and an error line, because a
 * newline in a delegation reply would let a plugin bug inject protocol.
 *
 * A fallback (mw_tlsq_fallback) is a policy held aside: the chain goes on
 * as after NOTFOUND, and only when every later plugin passed too does the
 * fallback become the answer. The first fallback given is kept.
 *
 * Every live question is on its chain's list, so mw_policy_free() can
 * release the ones no plugin will ever answer.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include "mw/alloc.h"
#include "mw/buf.h"
#include "mw/log.h"
#include "mw/metrics.h"
#include "mw/policy-host.h"

struct mw_tlsq {
    LIST_ENTRY(mw_tlsq) link;
    struct mw_policy *policy;
    char *domain;
    int is_parent;
    size_t next;    /* index of the next plugin to ask */
    int pending;    /* a plugin holds the question */
    int in_hook;    /* that plugin's hook is running */
    const char *by; /* name of the plugin asked last */
    enum mw_tls_answer answer;
    char *text;
    char *fallback;          /* policy to answer if nobody answers, or NULL */
    const char *fallback_by; /* the plugin that gave it */
    mw_tls_done_fn *done;    /* NULL once abandoned */
    void *arg;
    double started; /* mw_metrics_now() when asked */
};

struct mw_accessq {
    LIST_ENTRY(mw_accessq) link;
    struct mw_policy *policy;
    struct mw_policy_attr *attrs;
    size_t nattrs;
    size_t next;
    int pending;
    int in_hook;
    const char *by;
    char *action; /* NULL until someone answered other than DUNNO */
    mw_access_done_fn *done;
    void *arg;
    double started;
};

struct mw_policy {
    struct mw_plugins *plugins;
    LIST_HEAD(, mw_tlsq) tls;
    LIST_HEAD(, mw_accessq) access;
    size_t live;
};

/*
 * Metrics of one answered question: its time and a count by kind, answer
 * and answering plugin. Series are cached here (a question is answered in
 * the event loop's thread only), so the registry lock is taken once per
 * series, not per answer.
 */
static void
mw_policy_count(const char *kind, const char *answer, const char *plugin, double started)
{
    static struct {
        char key[96];
        struct mw_counter *c;
    } cache[32];
    static struct mw_histogram *h_tls, *h_access;
    char key[96];
    size_t i;

    if (h_tls == NULL) {
        h_tls =
            mw_metrics_histogram("mailward_policyd_lookup_duration_seconds", "kind=\"tls\"",
                                 "Time from a question to the plugins' answer, per kind", NULL, 0);
        h_access = mw_metrics_histogram("mailward_policyd_lookup_duration_seconds",
                                        "kind=\"access\"", NULL, NULL, 0);
    }
    mw_histogram_observe(*kind == 't' ? h_tls : h_access, mw_metrics_now() - started);
    snprintf(key, sizeof(key), "kind=\"%s\",answer=\"%s\",plugin=\"%.32s\"", kind, answer,
             plugin ? plugin : "none");
    for (i = 0; i < sizeof(cache) / sizeof(cache[0]) && cache[i].c != NULL; i++)
        if (strcmp(cache[i].key, key) == 0) {
            mw_counter_inc(cache[i].c);
            return;
        }
    {
        struct mw_counter *c = mw_metrics_counter(
            "mailward_policyd_lookups_total", key,
            "Questions answered, per kind (tls, access), answer and answering plugin");
        if (i < sizeof(cache) / sizeof(cache[0])) {
            memcpy(cache[i].key, key, sizeof(key));
            cache[i].c = c;
        }
        mw_counter_inc(c);
    }
}

static const char *
mw_tls_answer_word(enum mw_tls_answer a)
{
    switch (a) {
    case MW_TLS_OK:
        return "ok";
    case MW_TLS_TEMP:
        return "temp";
    case MW_TLS_PERM:
        return "perm";
    case MW_TLS_NOTFOUND:
        break;
    }
    return "notfound";
}

struct mw_policy *
mw_policy_new(struct mw_plugins *ps)
{
    struct mw_policy *p = mw_calloc(1, sizeof(*p));

    p->plugins = ps;
    LIST_INIT(&p->tls);
    LIST_INIT(&p->access);
    return p;
}

static void
mw_tlsq_free(struct mw_tlsq *q)
{
    LIST_REMOVE(q, link);
    q->policy->live--;
    mw_free(&q->domain);
    mw_free(&q->text);
    mw_free(&q->fallback);
    mw_free(&q);
}

static void
mw_accessq_free(struct mw_accessq *q)
{
    LIST_REMOVE(q, link);
    q->policy->live--;
    for (size_t i = 0; i < q->nattrs; i++) {
        mw_free(&q->attrs[i].name);
        mw_free(&q->attrs[i].value);
    }
    mw_free(&q->attrs);
    mw_free(&q->action);
    mw_free(&q);
}

void
mw_policy_free(struct mw_policy **pp)
{
    struct mw_policy *p = *pp;

    if (p == NULL)
        return;
    while (!LIST_EMPTY(&p->tls))
        mw_tlsq_free(LIST_FIRST(&p->tls));
    while (!LIST_EMPTY(&p->access))
        mw_accessq_free(LIST_FIRST(&p->access));
    mw_free(pp);
}

size_t
mw_policy_pending(const struct mw_policy *p)
{
    return p->live;
}

/* One line of printable text, not too long: safe in a netstring and in a policy reply. */
static int
mw_policy_text_ok(const char *s, size_t len)
{
    if (len > MW_POLICY_ANSWER_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

/* Run the chain from q->next on; returns 1 when q was answered and freed. */
static int
mw_tls_run(struct mw_tlsq *q)
{
    struct mw_plugins *ps = q->policy->plugins;

    while (q->answer == MW_TLS_NOTFOUND && q->next < ps->n) {
        struct mw_plugin_handle *h = &ps->v[q->next++];

        if (h->plugin->policy == NULL || h->plugin->policy->tls_policy == NULL)
            continue;
        q->by = h->plugin->name;
        q->pending = 1;
        q->in_hook = 1;
        h->plugin->policy->tls_policy(h->state, q);
        q->in_hook = 0;
        if (q->pending)
            return 0;
    }
    if (q->answer == MW_TLS_NOTFOUND && q->fallback != NULL) {
        q->answer = MW_TLS_OK;
        q->text = q->fallback;
        q->fallback = NULL;
        q->by = q->fallback_by;
    }
    if (q->done != NULL) {
        mw_policy_count("tls", mw_tls_answer_word(q->answer),
                        q->answer == MW_TLS_NOTFOUND ? NULL : q->by, q->started);
        q->done(q->arg, q->answer, q->text ? q->text : "",
                q->answer == MW_TLS_NOTFOUND ? NULL : q->by);
    }
    mw_tlsq_free(q);
    return 1;
}

struct mw_tlsq *
mw_policy_tls_ask(struct mw_policy *p, const char *domain, int is_parent, mw_tls_done_fn *done,
                  void *arg)
{
    struct mw_tlsq *q = mw_calloc(1, sizeof(*q));

    q->policy = p;
    q->domain = mw_strdup(domain);
    q->is_parent = is_parent;
    q->answer = MW_TLS_NOTFOUND;
    q->done = done;
    q->arg = arg;
    q->started = mw_metrics_now();
    LIST_INSERT_HEAD(&p->tls, q, link);
    p->live++;
    return mw_tls_run(q) ? NULL : q;
}

void
mw_tlsq_abandon(struct mw_tlsq *q)
{
    q->done = NULL;
    q->arg = NULL;
}

const char *
mw_tlsq_domain(const struct mw_tlsq *q)
{
    return q->domain;
}

int
mw_tlsq_is_parent(const struct mw_tlsq *q)
{
    return q->is_parent;
}

/* The current plugin's one answer to q (reply or fallback): no longer pending; its text into b. */
static void mw_tlsq_take(struct mw_tlsq *q, struct mw_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void
mw_tlsq_take(struct mw_tlsq *q, struct mw_buf *b, const char *fmt, va_list ap)
{
    if (!q->pending)
        mw_log_panic("plugin %s answered TLS question %s twice", q->by, q->domain);
    q->pending = 0;
    mw_buf_init(b);
    mw_buf_vprintf(b, fmt, ap);
}

void
mw_tlsq_reply(struct mw_tlsq *q, enum mw_tls_answer answer, const char *fmt, ...)
{
    struct mw_buf b;
    va_list ap;

    va_start(ap, fmt);
    mw_tlsq_take(q, &b, fmt, ap);
    va_end(ap);
    if (answer != MW_TLS_NOTFOUND && answer != MW_TLS_OK && answer != MW_TLS_TEMP &&
        answer != MW_TLS_PERM)
        mw_log_panic("plugin %s: TLS answer %d is not an enum mw_tls_answer", q->by, (int)answer);
    if (answer == MW_TLS_NOTFOUND) {
        mw_buf_release(&b);
    } else if (!mw_policy_text_ok(b.data, b.len) || (answer == MW_TLS_OK && b.len == 0)) {
        mw_log_error("plugin %s: malformed answer for %s (empty, too long or control "
                     "characters): answering TEMP",
                     q->by, q->domain);
        mw_buf_release(&b);
        q->answer = MW_TLS_TEMP;
        q->text = mw_strdup("malformed answer from a plugin");
    } else {
        q->answer = answer;
        q->text = mw_buf_steal(&b);
    }
    if (!q->in_hook)
        (void)mw_tls_run(q);
}

void
mw_tlsq_fallback(struct mw_tlsq *q, const char *fmt, ...)
{
    struct mw_buf b;
    va_list ap;

    va_start(ap, fmt);
    mw_tlsq_take(q, &b, fmt, ap);
    va_end(ap);
    if (!mw_policy_text_ok(b.data, b.len) || b.len == 0) {
        mw_log_error("plugin %s: malformed fallback for %s (empty, too long or control "
                     "characters): answering TEMP",
                     q->by, q->domain);
        q->answer = MW_TLS_TEMP;
        q->text = mw_strdup("malformed answer from a plugin");
    } else if (q->fallback == NULL) {
        q->fallback = mw_buf_steal(&b);
        q->fallback_by = q->by;
    }
    mw_buf_release(&b);
    if (!q->in_hook)
        (void)mw_tls_run(q);
}

const char *
mw_tlsq_fallback_policy(const struct mw_tlsq *q)
{
    return q->fallback;
}

static int
mw_access_run(struct mw_accessq *q)
{
    struct mw_plugins *ps = q->policy->plugins;

    while (q->action == NULL && q->next < ps->n) {
        struct mw_plugin_handle *h = &ps->v[q->next++];

        if (h->plugin->policy == NULL || h->plugin->policy->access == NULL)
            continue;
        q->by = h->plugin->name;
        q->pending = 1;
        q->in_hook = 1;
        h->plugin->policy->access(h->state, q);
        q->in_hook = 0;
        if (q->pending)
            return 0;
    }
    if (q->done != NULL) {
        mw_policy_count("access", q->action ? "action" : "dunno", q->action ? q->by : NULL,
                        q->started);
        q->done(q->arg, q->action ? q->action : "DUNNO", q->action ? q->by : NULL);
    }
    mw_accessq_free(q);
    return 1;
}

struct mw_accessq *
mw_policy_access_ask(struct mw_policy *p, struct mw_policy_attr *attrs, size_t n,
                     mw_access_done_fn *done, void *arg)
{
    struct mw_accessq *q = mw_calloc(1, sizeof(*q));

    q->policy = p;
    q->attrs = attrs;
    q->nattrs = n;
    q->done = done;
    q->arg = arg;
    q->started = mw_metrics_now();
    LIST_INSERT_HEAD(&p->access, q, link);
    p->live++;
    return mw_access_run(q) ? NULL : q;
}

void
mw_accessq_abandon(struct mw_accessq *q)
{
    q->done = NULL;
    q->arg = NULL;
}

const char *
mw_accessq_attr(const struct mw_accessq *q, const char *name)
{
    for (size_t i = 0; i < q->nattrs; i++)
        if (strcmp(q->attrs[i].name, name) == 0)
            return q->attrs[i].value;
    return NULL;
}

void
mw_accessq_reply(struct mw_accessq *q, const char *fmt, ...)
{
    struct mw_buf b;
    va_list ap;

    if (!q->pending)
        mw_log_panic("plugin %s answered an access question twice", q->by);
    q->pending = 0;
    mw_buf_init(&b);
    va_start(ap, fmt);
    mw_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (!mw_policy_text_ok(b.data, b.len) || b.len == 0) {
        mw_log_error("plugin %s: malformed access action (empty, too long or control "
                     "characters): answering 451",
                     q->by);
        q->action = mw_strdup("451 4.3.0 temporary policy failure");
    } else if (strcasecmp(b.data, "DUNNO") != 0) {
        q->action = mw_buf_steal(&b);
    }
    mw_buf_release(&b);
    if (!q->in_hook)
        (void)mw_access_run(q);
}

int
mw_policy_domain_parse(const char *in, size_t len, char *out, struct mw_err *err)
{
    size_t label = 0;

    if (len > 0 && in[len - 1] == '.')
        len--;
    if (len == 0)
        return mw_err_set(err, "empty domain");
    if (len > MW_DOMAIN_MAX)
        return mw_err_set(err, "domain longer than %d bytes", MW_DOMAIN_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];

        if (c == '.') {
            if (label == 0 || out[i - 1] == '-')
                return mw_err_set(err, "empty label or label ending in '-' in domain");
            label = 0;
        } else if (isascii(c) && (isalnum(c) || c == '-' || c == '_')) {
            if (++label > 63)
                return mw_err_set(err, "domain label longer than 63 bytes");
            if (label == 1 && c == '-')
                return mw_err_set(err, "domain label starts with '-'");
        } else {
            return mw_err_set(err, "invalid character 0x%02x in domain", c);
        }
        out[i] = (char)tolower(c);
    }
    if (label == 0 || out[len - 1] == '-')
        return mw_err_set(err, "empty last label or label ending in '-' in domain");
    out[len] = '\0';
    return 0;
}
