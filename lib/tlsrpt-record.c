/*
 * tlsrpt-record.c - one log line and the counters per TLS report (see mw/tlsrpt.h).
 *
 * Everything here comes from the sender of the report, so every value is
 * cleaned before it reaches the log (no control characters, no quotes,
 * bounded length) or a metric label (a small alphabet, and a bounded number
 * of distinct values: the first MW_TLSRPT_MAX_ORGS organisations and
 * MW_TLSRPT_MAX_DOMAINS policy domains seen by this process get a label of
 * their own, later ones share "other"; result types outside RFC 8460
 * section 4.3 are "other").
 *
 * Thread-safe: the tables of label values seen are guarded by one mutex;
 * counters are the lock-free ones of lib/metrics.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "mw/buf.h"
#include "mw/log.h"
#include "mw/metrics.h"
#include "mw/tlsrpt.h"

/* Longest label value / logged string (bytes). */
#define MW_TLSRPT_LABEL_MAX 64
#define MW_TLSRPT_LOG_MAX 128
/* Past this many bytes the log line names no more policies (one line must stay readable). */
#define MW_TLSRPT_LINE_MAX 1500

/* A bounded set of label values, first come first served. */
struct mw_tlsrpt_labels {
    char value[MW_TLSRPT_MAX_DOMAINS][MW_TLSRPT_LABEL_MAX + 1];
    size_t n;
    size_t max;
};

static pthread_mutex_t mw_tlsrpt_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mw_tlsrpt_labels mw_tlsrpt_orgs = {.max = MW_TLSRPT_MAX_ORGS};
static struct mw_tlsrpt_labels mw_tlsrpt_domains = {.max = MW_TLSRPT_MAX_DOMAINS};

/* RFC 8460 section 4.3: the result types that get their own label. */
static const char *const mw_tlsrpt_result_types[] = {
    "starttls-not-supported", "certificate-host-mismatch",
    "certificate-expired",    "certificate-not-trusted",
    "validation-failure",     "tlsa-invalid",
    "dnssec-invalid",         "dane-required",
    "sts-policy-fetch-error", "sts-policy-invalid",
    "sts-webpki-invalid",     NULL};

/* s cut to max bytes of [A-Za-z0-9._@ -]; other bytes become '_'. "" becomes "unknown". */
static void
mw_tlsrpt_clean(const char *s, char *out, size_t max)
{
    size_t i;

    if (s == NULL || *s == '\0')
        s = "unknown";
    for (i = 0; i < max && s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];

        out[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                         strchr("._@ -", c) != NULL
                     ? (char)c
                     : '_';
    }
    out[i] = '\0';
}

/* The label value for s: its cleaned form if known or if there is room, else "other". */
static void
mw_tlsrpt_label(struct mw_tlsrpt_labels *t, const char *s, char out[MW_TLSRPT_LABEL_MAX + 1])
{
    size_t i;

    mw_tlsrpt_clean(s, out, MW_TLSRPT_LABEL_MAX);
    pthread_mutex_lock(&mw_tlsrpt_lock);
    for (i = 0; i < t->n; i++)
        if (strcmp(t->value[i], out) == 0)
            break;
    if (i == t->n) {
        if (t->n < t->max)
            memcpy(t->value[t->n++], out, MW_TLSRPT_LABEL_MAX + 1);
        else
            strcpy(out, "other");
    }
    pthread_mutex_unlock(&mw_tlsrpt_lock);
}

static const char *
mw_tlsrpt_result_label(const char *rt)
{
    const char *const *k;

    for (k = mw_tlsrpt_result_types; *k != NULL; k++)
        if (strcmp(*k, rt) == 0)
            return *k;
    return "other";
}

static void
mw_tlsrpt_count_report(const char *org, const char *result)
{
    char labels[160];

    snprintf(labels, sizeof(labels), "org=\"%s\",result=\"%s\"", org, result);
    mw_counter_inc(mw_metrics_counter("mailward_tlsrpt_reports_total", labels,
                                      "TLS reports (RFC 8460) received, by sender and outcome"));
}

/* The sessions and failures of one policy. */
static void
mw_tlsrpt_count_policy(const char *org, const struct mw_tlsrpt_policy *p)
{
    char dom[MW_TLSRPT_LABEL_MAX + 1], labels[256];
    static const char help_s[] = "TLS sessions reported by senders (RFC 8460), by outcome";
    static const char help_f[] = "Failed TLS sessions reported by senders, by result type";
    size_t i;

    mw_tlsrpt_label(&mw_tlsrpt_domains, p->policy_domain, dom);
    snprintf(labels, sizeof(labels), "org=\"%s\",policy_domain=\"%s\",outcome=\"success\"", org,
             dom);
    mw_counter_add(mw_metrics_counter("mailward_tlsrpt_sessions_total", labels, help_s),
                   p->successes);
    snprintf(labels, sizeof(labels), "org=\"%s\",policy_domain=\"%s\",outcome=\"failure\"", org,
             dom);
    mw_counter_add(mw_metrics_counter("mailward_tlsrpt_sessions_total", labels, help_s),
                   p->failures);
    for (i = 0; i < p->nfailure; i++) {
        snprintf(labels, sizeof(labels), "org=\"%s\",result_type=\"%s\"", org,
                 mw_tlsrpt_result_label(p->failure[i].result_type));
        mw_counter_add(mw_metrics_counter("mailward_tlsrpt_failures_total", labels, help_f),
                       p->failure[i].sessions);
    }
}

/* Append text with control characters and non-ASCII bytes as '?'. */
static void
mw_tlsrpt_log_text(struct mw_buf *b, const char *text)
{
    for (; *text != '\0'; text++)
        mw_buf_putc(b, (unsigned char)*text >= 0x20 && (unsigned char)*text < 0x7f ? *text : '?');
}

/* Append key="value" with value cleaned for a log line. */
static void
mw_tlsrpt_log_str(struct mw_buf *b, const char *key, const char *value)
{
    char clean[MW_TLSRPT_LOG_MAX + 1];

    mw_tlsrpt_clean(value, clean, MW_TLSRPT_LOG_MAX);
    mw_buf_printf(b, " %s=\"%s\"", key, clean);
}

/* " policy-domain=D type=T successes=N failures=M results=rt:n,..." per policy. */
static void
mw_tlsrpt_log_policies(struct mw_buf *b, const struct mw_tlsrpt_summary *s)
{
    char clean[MW_TLSRPT_LOG_MAX + 1];
    size_t i, j;

    for (i = 0; i < s->npolicy; i++) {
        const struct mw_tlsrpt_policy *p = &s->policy[i];

        if (b->len > MW_TLSRPT_LINE_MAX) {
            mw_buf_printf(b, " ... (%zu policies)", s->npolicy);
            return;
        }
        mw_tlsrpt_clean(p->policy_domain, clean, MW_TLSRPT_LOG_MAX);
        mw_buf_printf(b, " policy-domain=%s type=%s successes=%llu failures=%llu results=", clean,
                      p->policy_type, (unsigned long long)p->successes,
                      (unsigned long long)p->failures);
        if (p->nfailure == 0)
            mw_buf_puts(b, "none");
        for (j = 0; j < p->nfailure; j++) {
            mw_tlsrpt_clean(p->failure[j].result_type, clean, MW_TLSRPT_LABEL_MAX);
            mw_buf_printf(b, "%s%s:%llu", j ? "," : "", clean,
                          (unsigned long long)p->failure[j].sessions);
        }
    }
}

void
mw_tlsrpt_record(const struct mw_tlsrpt_summary *ok, const struct mw_tlsrpt_summary *partial,
                 const char *via, const char *id, const char *why)
{
    const struct mw_tlsrpt_summary *s = ok != NULL ? ok : partial;
    char org[MW_TLSRPT_LABEL_MAX + 1];
    struct mw_buf line;
    size_t i;

    mw_buf_init(&line);
    if (id != NULL && *id != '\0')
        mw_buf_printf(&line, "%s: ", id);
    mw_buf_printf(&line, "tlsrpt via=%s", via != NULL ? via : "unknown");
    mw_tlsrpt_log_str(&line, "org", s != NULL ? s->organization : NULL);
    mw_tlsrpt_log_str(&line, "report-id", s != NULL ? s->report_id : NULL);
    mw_tlsrpt_label(&mw_tlsrpt_orgs, s != NULL ? s->organization : NULL, org);
    if (ok != NULL) {
        mw_tlsrpt_log_policies(&line, ok);
        mw_buf_puts(&line, " accepted");
        mw_tlsrpt_count_report(org, "accepted");
        for (i = 0; i < ok->npolicy; i++)
            mw_tlsrpt_count_policy(org, &ok->policy[i]);
        mw_log_info("%s", line.data);
    } else {
        mw_buf_puts(&line, " rejected: ");
        mw_tlsrpt_log_text(&line, why != NULL ? why : "unknown error");
        mw_tlsrpt_count_report(org, "rejected");
        mw_log_warn("%s", line.data);
    }
    mw_buf_release(&line);
}

int
mw_tlsrpt_receive(const unsigned char *data, size_t len, int gzipped, const char *via,
                  const char *id, struct mw_err *err)
{
    struct mw_tlsrpt_summary s;
    struct mw_err local;
    int rc;

    if (err == NULL)
        err = &local;
    rc = mw_tlsrpt_accept(data, len, gzipped, &s, err);
    mw_tlsrpt_record(rc == 0 ? &s : NULL, &s, via, id, err->text);
    mw_tlsrpt_summary_free(&s);
    return rc;
}
