/*
 * tlsrpt.c - the TLS report parser (RFC 8460): gzip, JSON, schema.
 *
 * mw_tlsrpt_accept() inflates (zlib, bounded: see mw/tlsrpt.h), parses
 * the JSON with json-c (strict, UTF-8 checked, bounded depth, nothing after
 * the value) and walks the object tree once, checking each field that RFC
 * 8460 section 4 requires and copying what the summary keeps. Every error
 * names the path of the offending field. Logging and counting are in
 * tlsrpt-record.c.
 *
 * Reentrant: no state outside the arguments. The summary owns its strings.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "mw/alloc.h"
#include "mw/tlsrpt.h"

/* Inflate in steps of this size; the output grows to at most MW_TLSRPT_MAX_JSON. */
#define MW_TLSRPT_CHUNK (64u * 1024)
/* Below this many inflated bytes the ratio is not checked (small reports compress well). */
#define MW_TLSRPT_RATIO_FLOOR (1024u * 1024)

/* Inflate the gzip member in data into *json (allocated, NUL-terminated). */
static int
mw_tlsrpt_inflate(const unsigned char *data, size_t len, char **json, size_t *jlen,
                  struct mw_err *err)
{
    z_stream z;
    char *out = NULL;
    size_t cap = 0;
    int rc;

    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return mw_err_set(err, "gzip: cannot initialise zlib");
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)len;
    do {
        if (z.total_out == cap) {
            /* Double (amortised copies), never much past the limit. */
            cap = cap == 0 ? MW_TLSRPT_CHUNK : cap * 2;
            if (cap > MW_TLSRPT_MAX_JSON + MW_TLSRPT_CHUNK)
                cap = MW_TLSRPT_MAX_JSON + MW_TLSRPT_CHUNK;
            out = mw_reallocarray(out, cap + 1, 1);
        }
        z.next_out = (Bytef *)out + z.total_out;
        /* At most one chunk per call, so that the limits are checked early. */
        z.avail_out =
            (uInt)(cap - z.total_out < MW_TLSRPT_CHUNK ? cap - z.total_out : MW_TLSRPT_CHUNK);
        rc = inflate(&z, Z_NO_FLUSH);
        if (z.total_out > MW_TLSRPT_MAX_JSON) {
            mw_err_set(err, "gzip: inflates to more than %u bytes", MW_TLSRPT_MAX_JSON);
            goto fail;
        }
        if (z.total_out > MW_TLSRPT_RATIO_FLOOR && z.total_out / MW_TLSRPT_MAX_RATIO > len) {
            mw_err_set(err, "gzip: inflates more than %u times (a gzip bomb?)",
                       MW_TLSRPT_MAX_RATIO);
            goto fail;
        }
        if (rc == Z_BUF_ERROR && z.avail_in == 0) {
            mw_err_set(err, "gzip: truncated after %zu bytes", len);
            goto fail;
        }
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
            mw_err_set(err, "gzip: %s", z.msg != NULL ? z.msg : "corrupt data");
            goto fail;
        }
    } while (rc != Z_STREAM_END);
    if (z.avail_in != 0) {
        mw_err_set(err, "gzip: %u bytes after the end of the compressed data", z.avail_in);
        goto fail;
    }
    *jlen = z.total_out;
    out[*jlen] = '\0';
    *json = out;
    inflateEnd(&z);
    return 0;
fail:
    inflateEnd(&z);
    mw_free(&out);
    return -1;
}

static const char *
mw_tlsrpt_type_name(enum json_type t)
{
    switch (t) {
    case json_type_string:
        return "a string";
    case json_type_int:
        return "an integer";
    case json_type_array:
        return "an array";
    default:
        return "an object";
    }
}

/*
 * Member key of o with type t into *v: 0 (and *v NULL if it is absent and
 * not required), or -1 with err set if it is missing and required, or mistyped.
 */
static int
mw_tlsrpt_get(struct json_object *o, const char *where, const char *key, enum json_type t,
              int required, struct json_object **v, struct mw_err *err)
{
    const char *dot = *where ? "." : "";

    *v = NULL;
    if (!json_object_object_get_ex(o, key, v) || *v == NULL) {
        *v = NULL;
        return required ? mw_err_set(err, "%s%s%s: missing", where, dot, key) : 0;
    }
    if (!json_object_is_type(*v, t)) {
        *v = NULL;
        return mw_err_set(err, "%s%s%s: not %s", where, dot, key, mw_tlsrpt_type_name(t));
    }
    return 0;
}

/* A copy of the string member key (NULL if absent and not required). */
static int
mw_tlsrpt_string(struct json_object *o, const char *where, const char *key, int required,
                 char **out, struct mw_err *err)
{
    const char *dot = *where ? "." : "";
    struct json_object *v;
    const char *s;
    int len;

    *out = NULL;
    if (mw_tlsrpt_get(o, where, key, json_type_string, required, &v, err) < 0)
        return -1;
    if (v == NULL)
        return 0;
    s = json_object_get_string(v);
    len = json_object_get_string_len(v);
    if (len < 0 || (size_t)len > MW_TLSRPT_MAX_STRING)
        return mw_err_set(err, "%s%s%s: longer than %u bytes", where, dot, key,
                          MW_TLSRPT_MAX_STRING);
    if (strlen(s) != (size_t)len)
        return mw_err_set(err, "%s%s%s: contains a NUL", where, dot, key);
    if (required && len == 0)
        return mw_err_set(err, "%s%s%s: empty", where, dot, key);
    *out = mw_strndup(s, (size_t)len);
    return 0;
}

/* The non-negative integer member key. */
static int
mw_tlsrpt_count(struct json_object *o, const char *where, const char *key, uint64_t *out,
                struct mw_err *err)
{
    struct json_object *v;
    int64_t n;

    if (mw_tlsrpt_get(o, where, key, json_type_int, 1, &v, err) < 0)
        return -1;
    n = json_object_get_int64(v);
    if (n < 0)
        return mw_err_set(err, "%s.%s: negative", where, key);
    if (n == INT64_MAX)
        return mw_err_set(err, "%s.%s: too large", where, key);
    *out = (uint64_t)n;
    return 0;
}

/* a += b, refusing sums that could overflow (each count < 2^63, so the check suffices). */
static int
mw_tlsrpt_add(uint64_t *a, uint64_t b, const char *where, struct mw_err *err)
{
    if (*a > UINT64_MAX / 2 || b > UINT64_MAX / 2)
        return mw_err_set(err, "%s: session counts overflow", where);
    *a += b;
    return 0;
}

/* Two digits at s, at most max. */
static int
mw_tlsrpt_2digits(const char *s, int max)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return 0;
    return (s[0] - '0') * 10 + (s[1] - '0') <= max;
}

/* RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM). */
static int
mw_tlsrpt_datetime_ok(const char *s)
{
    size_t i;

    for (i = 0; i < 4; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    if (s[4] != '-' || !mw_tlsrpt_2digits(s + 5, 12) || s[7] != '-' ||
        !mw_tlsrpt_2digits(s + 8, 31) || (s[10] != 'T' && s[10] != 't') ||
        !mw_tlsrpt_2digits(s + 11, 23) || s[13] != ':' || !mw_tlsrpt_2digits(s + 14, 59) ||
        s[16] != ':' || !mw_tlsrpt_2digits(s + 17, 60))
        return 0;
    s += 19;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9')
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if ((*s == 'Z' || *s == 'z') && s[1] == '\0')
        return 1;
    return (*s == '+' || *s == '-') && mw_tlsrpt_2digits(s + 1, 23) && s[3] == ':' &&
           mw_tlsrpt_2digits(s + 4, 59) && s[6] == '\0';
}

static int
mw_tlsrpt_date_range(struct json_object *root, struct mw_tlsrpt_summary *s, struct mw_err *err)
{
    struct json_object *dr;

    if (mw_tlsrpt_get(root, "", "date-range", json_type_object, 1, &dr, err) < 0)
        return -1;
    if (mw_tlsrpt_string(dr, "date-range", "start-datetime", 1, &s->start, err) < 0 ||
        mw_tlsrpt_string(dr, "date-range", "end-datetime", 1, &s->end, err) < 0)
        return -1;
    if (!mw_tlsrpt_datetime_ok(s->start))
        return mw_err_set(err, "date-range.start-datetime: not an RFC 3339 date-time");
    if (!mw_tlsrpt_datetime_ok(s->end))
        return mw_err_set(err, "date-range.end-datetime: not an RFC 3339 date-time");
    return 0;
}

/* Add n failed sessions of result-type rt to p (one entry per result-type). */
static int
mw_tlsrpt_failure_add(struct mw_tlsrpt_policy *p, const char *rt, uint64_t n, const char *where,
                      struct mw_err *err)
{
    size_t i;

    for (i = 0; i < p->nfailure; i++)
        if (strcmp(p->failure[i].result_type, rt) == 0)
            return mw_tlsrpt_add(&p->failure[i].sessions, n, where, err);
    if (p->nfailure == MW_TLSRPT_MAX_RESULT_TYPES)
        return mw_err_set(err, "%s: more than %u distinct result types", where,
                          MW_TLSRPT_MAX_RESULT_TYPES);
    p->failure = mw_reallocarray(p->failure, p->nfailure + 1, sizeof(*p->failure));
    p->failure[p->nfailure].result_type = mw_strdup(rt);
    p->failure[p->nfailure].sessions = n;
    p->nfailure++;
    return 0;
}

/* The optional string members of a failure-details entry: checked for their type only. */
static const char *const mw_tlsrpt_detail_strings[] = {
    "sending-mta-ip",         "receiving-mx-hostname", "receiving-mx-helo",  "receiving-ip",
    "additional-information", "failure-reason-code",   "failure-error-code", NULL};

static int
mw_tlsrpt_detail(struct json_object *d, const char *at, struct mw_tlsrpt_policy *p,
                 struct mw_err *err)
{
    const char *const *k;
    struct json_object *v;
    char *rt = NULL;
    uint64_t cnt = 0;
    int rc;

    if (!json_object_is_type(d, json_type_object))
        return mw_err_set(err, "%s: not an object", at);
    for (k = mw_tlsrpt_detail_strings; *k != NULL; k++)
        if (mw_tlsrpt_get(d, at, *k, json_type_string, 0, &v, err) < 0)
            return -1;
    if (mw_tlsrpt_count(d, at, "failed-session-count", &cnt, err) < 0 ||
        mw_tlsrpt_string(d, at, "result-type", 1, &rt, err) < 0)
        return -1;
    rc = mw_tlsrpt_failure_add(p, rt, cnt, at, err);
    mw_free(&rt);
    return rc;
}

/* failure-details[] of one policy (optional). */
static int
mw_tlsrpt_details(struct json_object *pol, const char *where, struct mw_tlsrpt_policy *p,
                  struct mw_err *err)
{
    struct json_object *arr;
    char at[96];
    size_t i, n;

    if (mw_tlsrpt_get(pol, where, "failure-details", json_type_array, 0, &arr, err) < 0)
        return -1;
    if (arr == NULL)
        return 0;
    n = json_object_array_length(arr);
    if (n > MW_TLSRPT_MAX_DETAILS)
        return mw_err_set(err, "%s.failure-details: more than %u entries", where,
                          MW_TLSRPT_MAX_DETAILS);
    for (i = 0; i < n; i++) {
        snprintf(at, sizeof(at), "%s.failure-details[%zu]", where, i);
        if (mw_tlsrpt_detail(json_object_array_get_idx(arr, i), at, p, err) < 0)
            return -1;
    }
    return 0;
}

/* policy{}: policy-type, policy-domain, policy-string[] and mx-host (optional). */
static int
mw_tlsrpt_policy_obj(struct json_object *item, const char *where, struct mw_tlsrpt_policy *p,
                     struct mw_err *err)
{
    struct json_object *pol, *v;
    char at[96];

    if (mw_tlsrpt_get(item, where, "policy", json_type_object, 1, &pol, err) < 0)
        return -1;
    snprintf(at, sizeof(at), "%s.policy", where);
    if (mw_tlsrpt_string(pol, at, "policy-type", 1, &p->policy_type, err) < 0 ||
        mw_tlsrpt_string(pol, at, "policy-domain", 1, &p->policy_domain, err) < 0)
        return -1;
    if (strcmp(p->policy_type, "sts") != 0 && strcmp(p->policy_type, "tlsa") != 0 &&
        strcmp(p->policy_type, "no-policy-found") != 0)
        return mw_err_set(err, "%s.policy-type: not sts, tlsa or no-policy-found", at);
    if (json_object_object_get_ex(pol, "policy-string", &v)) {
        size_t i;

        if (!json_object_is_type(v, json_type_array))
            return mw_err_set(err, "%s.policy-string: not an array", at);
        for (i = 0; i < json_object_array_length(v); i++)
            if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
                return mw_err_set(err, "%s.policy-string[%zu]: not a string", at, i);
    }
    /* mx-host: an array of strings (RFC 8460 section 4.4); some senders send one string. */
    if (json_object_object_get_ex(pol, "mx-host", &v)) {
        if (json_object_is_type(v, json_type_array) && json_object_array_length(v) > 0)
            v = json_object_array_get_idx(v, 0);
        if (json_object_is_type(v, json_type_string))
            p->mx_host = mw_strndup(json_object_get_string(v), MW_TLSRPT_MAX_STRING);
        else if (!json_object_is_type(v, json_type_array))
            return mw_err_set(err, "%s.mx-host: not a string or an array of strings", at);
    }
    return 0;
}

/* One entry of policies[]. */
static int
mw_tlsrpt_policy(struct json_object *item, size_t idx, struct mw_tlsrpt_policy *p,
                 struct mw_err *err)
{
    struct json_object *sum;
    char at[48], sat[64];

    snprintf(at, sizeof(at), "policies[%zu]", idx);
    if (!json_object_is_type(item, json_type_object))
        return mw_err_set(err, "%s: not an object", at);
    if (mw_tlsrpt_policy_obj(item, at, p, err) < 0)
        return -1;
    if (mw_tlsrpt_get(item, at, "summary", json_type_object, 1, &sum, err) < 0)
        return -1;
    snprintf(sat, sizeof(sat), "%s.summary", at);
    if (mw_tlsrpt_count(sum, sat, "total-successful-session-count", &p->successes, err) < 0 ||
        mw_tlsrpt_count(sum, sat, "total-failure-session-count", &p->failures, err) < 0)
        return -1;
    return mw_tlsrpt_details(item, at, p, err);
}

static int
mw_tlsrpt_report(struct json_object *root, struct mw_tlsrpt_summary *s, struct mw_err *err)
{
    struct json_object *arr;
    size_t i, n;

    if (!json_object_is_type(root, json_type_object))
        return mw_err_set(err, "the report is not a JSON object");
    if (mw_tlsrpt_string(root, "", "organization-name", 1, &s->organization, err) < 0 ||
        mw_tlsrpt_string(root, "", "report-id", 1, &s->report_id, err) < 0 ||
        mw_tlsrpt_string(root, "", "contact-info", 1, &s->contact_info, err) < 0 ||
        mw_tlsrpt_date_range(root, s, err) < 0)
        return -1;
    if (mw_tlsrpt_get(root, "", "policies", json_type_array, 1, &arr, err) < 0)
        return -1;
    n = json_object_array_length(arr);
    if (n == 0)
        return mw_err_set(err, "policies: empty");
    if (n > MW_TLSRPT_MAX_POLICIES)
        return mw_err_set(err, "policies: more than %u entries", MW_TLSRPT_MAX_POLICIES);
    s->policy = mw_calloc(n, sizeof(*s->policy));
    for (i = 0; i < n; i++) {
        struct mw_tlsrpt_policy *p = &s->policy[i];

        s->npolicy = i + 1;
        if (mw_tlsrpt_policy(json_object_array_get_idx(arr, i), i, p, err) < 0 ||
            mw_tlsrpt_add(&s->successes, p->successes, "policies", err) < 0 ||
            mw_tlsrpt_add(&s->failures, p->failures, "policies", err) < 0)
            return -1;
    }
    return 0;
}

/* Parse len bytes of JSON text into a json-c tree (strict, UTF-8, one value only). */
static struct json_object *
mw_tlsrpt_json(const char *text, size_t len, struct mw_err *err)
{
    struct json_tokener *tok = json_tokener_new_ex(MW_TLSRPT_MAX_DEPTH);
    struct json_object *root;
    enum json_tokener_error jerr;

    if (tok == NULL) {
        mw_err_set(err, "json: cannot allocate a parser");
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    root = json_tokener_parse_ex(tok, text, (int)len);
    jerr = json_tokener_get_error(tok);
    if (root == NULL && jerr == json_tokener_continue)
        mw_err_set(err, "json: truncated");
    else if (root == NULL)
        mw_err_set(err, "json: %s at offset %zu", json_tokener_error_desc(jerr),
                   json_tokener_get_parse_end(tok));
    else if (json_tokener_get_parse_end(tok) != len) {
        size_t end = json_tokener_get_parse_end(tok);

        /* Only white space may follow the value. */
        if (strspn(text + end, " \t\r\n") != len - end) {
            mw_err_set(err, "json: data after the report at offset %zu", end);
            json_object_put(root);
            root = NULL;
        }
    }
    json_tokener_free(tok);
    return root;
}

int
mw_tlsrpt_accept(const unsigned char *data, size_t len, int gzipped, struct mw_tlsrpt_summary *out,
                 struct mw_err *err)
{
    struct json_object *root;
    char *inflated = NULL;
    const char *text;
    size_t tlen = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    if (data == NULL || len == 0)
        return mw_err_set(err, "empty report");
    if (len > MW_TLSRPT_MAX_INPUT)
        return mw_err_set(err, "report of %zu bytes, more than %u", len, MW_TLSRPT_MAX_INPUT);
    if (gzipped == MW_TLSRPT_AUTO)
        gzipped = len >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    if (gzipped) {
        if (mw_tlsrpt_inflate(data, len, &inflated, &tlen, err) < 0)
            return -1;
        text = inflated;
    } else {
        text = (const char *)data;
        tlen = len;
        if (tlen > MW_TLSRPT_MAX_JSON)
            return mw_err_set(err, "json: more than %u bytes", MW_TLSRPT_MAX_JSON);
    }
    if (tlen > INT32_MAX) {
        mw_free(&inflated);
        return mw_err_set(err, "json: too large");
    }
    out->json_len = tlen;
    root = mw_tlsrpt_json(text, tlen, err);
    mw_free(&inflated);
    if (root == NULL)
        return -1;
    rc = mw_tlsrpt_report(root, out, err);
    json_object_put(root);
    return rc;
}

void
mw_tlsrpt_summary_free(struct mw_tlsrpt_summary *s)
{
    size_t i, j;

    if (s == NULL)
        return;
    for (i = 0; i < s->npolicy; i++) {
        struct mw_tlsrpt_policy *p = &s->policy[i];

        for (j = 0; j < p->nfailure; j++)
            mw_free(&p->failure[j].result_type);
        mw_free(&p->failure);
        mw_free(&p->policy_type);
        mw_free(&p->policy_domain);
        mw_free(&p->mx_host);
    }
    mw_free(&s->policy);
    mw_free(&s->organization);
    mw_free(&s->report_id);
    mw_free(&s->contact_info);
    mw_free(&s->start);
    mw_free(&s->end);
    memset(s, 0, sizeof(*s));
}

int
mw_tlsrpt_content_type(const char *ct)
{
    size_t n;

    if (ct == NULL)
        return -1;
    ct += strspn(ct, " \t");
    n = strcspn(ct, "; \t");
    if (n == 23 && strncasecmp(ct, "application/tlsrpt+gzip", n) == 0)
        return MW_TLSRPT_GZIP;
    if (n == 23 && strncasecmp(ct, "application/tlsrpt+json", n) == 0)
        return MW_TLSRPT_JSON;
    return -1;
}
