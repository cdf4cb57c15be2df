/*
 * mw/tlsrpt.h - receive SMTP TLS reports (RFC 8460): parse, log, count.
 *
 * SYNOPSIS
 *   By HTTPS POST (mailward-policyd's publishing listener):
 *     int gz = mw_tlsrpt_content_type(content_type);      (-1: answer 415)
 *     if (mw_tlsrpt_receive(body, len, gz, "https", peer, &err) < 0)
 *         answer 400 with err.text;
 *     else
 *         answer 201;
 *
 *   By mail (plugins/tlsrpt): the same call with via "mail" and the queue id.
 *
 *   Or in two steps, to look at the result:
 *     struct mw_tlsrpt_summary s;
 *     rc = mw_tlsrpt_accept(data, len, MW_TLSRPT_AUTO, &s, &err);
 *     mw_tlsrpt_record(rc == 0 ? &s : NULL, &s, "mail", id, rc == 0 ? NULL : err.text);
 *     mw_tlsrpt_summary_free(&s);
 *
 * DESCRIPTION
 *   mw_tlsrpt_accept() is a pure parser: bytes in, summary or error out. The
 *   input is the report as delivered (RFC 8460 section 5): gzip'd JSON
 *   (application/tlsrpt+gzip) or plain JSON (application/tlsrpt+json). It
 *   is distrusted: at most MW_TLSRPT_MAX_INPUT bytes in, at most
 *   MW_TLSRPT_MAX_JSON bytes after inflating and at most MW_TLSRPT_MAX_RATIO
 *   times the compressed size (gzip bombs are refused before they are
 *   inflated in full), JSON parsed by json-c with a bounded depth, and the
 *   object checked against the schema of RFC 8460 section 4: every required
 *   field present with its type, counts non-negative integers, policy-type
 *   one of "sts", "tlsa", "no-policy-found", date-range datetimes in RFC 3339
 *   form, at most MW_TLSRPT_MAX_POLICIES policies, MW_TLSRPT_MAX_DETAILS
 *   failure details and MW_TLSRPT_MAX_RESULT_TYPES distinct result types
 *   per policy. Unknown fields are ignored (section 4.4
 *   allows extensions). A report failing any check is refused as a whole,
 *   with one line in err saying where ("policies[1].summary: ...").
 *
 *   The summary keeps what is logged and counted: organisation, report id,
 *   date range, and per policy its type, domain, session counts and the
 *   failed sessions summed per result-type (the failure-details of one
 *   result-type for many MTAs fold into one entry).
 *
 *   mw_tlsrpt_record() logs the one line per report and bumps the counters:
 *     mailward_tlsrpt_reports_total{org,result="accepted|rejected"}
 *     mailward_tlsrpt_sessions_total{org,policy_domain,outcome="success|failure"}
 *     mailward_tlsrpt_failures_total{org,result_type}
 *   Label values are bounded so that senders cannot grow the registry: at
 *   most MW_TLSRPT_MAX_ORGS distinct organisations and MW_TLSRPT_MAX_DOMAINS
 *   policy domains get their own label (later ones count as "other"),
 *   result types outside RFC 8460 section 4.3 count as "other", and values
 *   are cut to 64 characters of [A-Za-z0-9._@ -] (others become "_").
 *
 * MEMORY
 *   The summary owns its strings; mw_tlsrpt_summary_free() releases them and
 *   may be called on a summary that mw_tlsrpt_accept() failed to fill (it
 *   always initialises it first).
 *
 * THREAD-SAFETY
 *   mw_tlsrpt_accept() is reentrant. mw_tlsrpt_record() and
 *   mw_tlsrpt_receive() may run in any number of threads (one lock guards
 *   the table of label values seen).
 */
#ifndef MW_TLSRPT_H
#define MW_TLSRPT_H

#include <stddef.h>
#include <stdint.h>

#include "mw/err.h"

/* Limits (bytes, counts). */
#define MW_TLSRPT_MAX_INPUT (5u * 1024 * 1024) /* report as received */
#define MW_TLSRPT_MAX_JSON (10u * 1024 * 1024) /* JSON after inflating */
#define MW_TLSRPT_MAX_RATIO 100u               /* inflated / compressed, above 1 MB */
#define MW_TLSRPT_MAX_DEPTH 16                 /* JSON nesting */
#define MW_TLSRPT_MAX_POLICIES 1000
#define MW_TLSRPT_MAX_DETAILS 10000   /* failure-details per policy */
#define MW_TLSRPT_MAX_RESULT_TYPES 64 /* distinct result types per policy */
#define MW_TLSRPT_MAX_STRING 4096     /* any string field kept */
#define MW_TLSRPT_MAX_ORGS 32         /* distinct org label values */
#define MW_TLSRPT_MAX_DOMAINS 64      /* distinct policy_domain label values */

/* The gzipped argument of mw_tlsrpt_accept()/mw_tlsrpt_receive(). */
#define MW_TLSRPT_JSON 0
#define MW_TLSRPT_GZIP 1
#define MW_TLSRPT_AUTO (-1) /* gzip if the data starts with the gzip magic 1f 8b */

/* Failed sessions of one result-type (summed over the failure-details). */
struct mw_tlsrpt_failure {
    char *result_type; /* e.g. "certificate-expired" */
    uint64_t sessions;
};

struct mw_tlsrpt_policy {
    char *policy_type;                 /* "sts", "tlsa" or "no-policy-found" */
    char *policy_domain;               /* the domain the policy is for (ours) */
    char *mx_host;                     /* first mx-host entry, or NULL */
    uint64_t successes;                /* summary.total-successful-session-count */
    uint64_t failures;                 /* summary.total-failure-session-count */
    struct mw_tlsrpt_failure *failure; /* per result-type, in first-seen order */
    size_t nfailure;
};

struct mw_tlsrpt_summary {
    char *organization; /* organization-name (set as soon as read, even on failure) */
    char *report_id;    /* report-id (likewise) */
    char *contact_info;
    char *start, *end; /* date-range start-datetime / end-datetime */
    struct mw_tlsrpt_policy *policy;
    size_t npolicy;
    uint64_t successes, failures; /* sums over the policies */
    size_t json_len;              /* bytes of JSON parsed (after inflating) */
};

/*
 * Parse one report: gzipped is MW_TLSRPT_GZIP, MW_TLSRPT_JSON or
 * MW_TLSRPT_AUTO. 0 and *out filled, or -1 and err says why (*out may hold
 * organization and report_id if they were read). Free *out either way.
 */
int mw_tlsrpt_accept(const unsigned char *data, size_t len, int gzipped,
                     struct mw_tlsrpt_summary *out, struct mw_err *err);

/* Release the strings and arrays of s and zero it. */
void mw_tlsrpt_summary_free(struct mw_tlsrpt_summary *s);

/*
 * What a Content-Type (with or without parameters, any case) says:
 * MW_TLSRPT_GZIP for application/tlsrpt+gzip, MW_TLSRPT_JSON for
 * application/tlsrpt+json, -1 for anything else or NULL.
 */
int mw_tlsrpt_content_type(const char *content_type);

/*
 * Log the line for one report and count it. ok is the parsed report, or
 * NULL if it was refused; then partial (may be NULL) names what was read
 * and why says why it was refused. via ("mail", "https") and id (queue id
 * or peer address; may be NULL) only go into the log line:
 *   ID: tlsrpt via=mail org="Example Inc." report-id="..." policy-domain=example.org
 *       type=sts successes=10 failures=2 results=certificate-expired:2 accepted
 *   ID: tlsrpt via=https org="..." report-id="..." rejected: why
 */
void mw_tlsrpt_record(const struct mw_tlsrpt_summary *ok, const struct mw_tlsrpt_summary *partial,
                      const char *via, const char *id, const char *why);

/*
 * mw_tlsrpt_accept() then mw_tlsrpt_record(): parse, log, count. 0 if the
 * report was accepted, -1 (err says why) if it was refused.
 */
int mw_tlsrpt_receive(const unsigned char *data, size_t len, int gzipped, const char *via,
                      const char *id, struct mw_err *err);

#endif
