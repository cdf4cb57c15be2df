/*
 * test-tlsrpt.c - unit tests of lib/tlsrpt.c and lib/tlsrpt-record.c.
 *
 * The samples in tests/tlsrpt/ (an RFC 8460 appendix B report, a report
 * with two policies and repeated result types, and reports with a wrong
 * schema) are parsed plain and gzipped; truncated, corrupt, oversized and
 * bomb inputs are built here with zlib. The counters are checked in the
 * Prometheus rendering after mw_tlsrpt_receive().
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "mw/alloc.h"
#include "mw/buf.h"
#include "mw/log.h"
#include "mw/metrics.h"
#include "mw/tlsrpt.h"

/* Read tests/tlsrpt/NAME (from $top_srcdir, which make check exports). */
static void
sample(const char *name, struct mw_buf *out)
{
    const char *srcdir = getenv("top_srcdir");
    char path[512], chunk[4096];
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "%s/tests/tlsrpt/%s", srcdir ? srcdir : ".", name);
    f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    mw_buf_init(out);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        mw_buf_append(out, chunk, n);
    fclose(f);
}

/* gzip len bytes of data into out (level 1: the big inputs must be quick). */
static void
gzip(const void *data, size_t len, struct mw_buf *out)
{
    z_stream z;
    unsigned char chunk[65536];
    int rc;

    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY), Z_OK);
    mw_buf_init(out);
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)len;
    do {
        z.next_out = chunk;
        z.avail_out = sizeof(chunk);
        rc = deflate(&z, Z_FINISH);
        mw_buf_append(out, chunk, sizeof(chunk) - z.avail_out);
    } while (rc == Z_OK || rc == Z_BUF_ERROR);
    assert_int_equal(rc, Z_STREAM_END);
    deflateEnd(&z);
}

static void
check_valid(const struct mw_tlsrpt_summary *s)
{
    const struct mw_tlsrpt_policy *p = &s->policy[0];

    assert_string_equal(s->organization, "Company-X");
    assert_string_equal(s->report_id, "5065427c-23d3-47ca-b6e0-946ea0e8c4be");
    assert_string_equal(s->contact_info, "sts-reporting@company-x.example");
    assert_string_equal(s->start, "2016-04-01T00:00:00Z");
    assert_string_equal(s->end, "2016-04-01T23:59:59Z");
    assert_int_equal(s->npolicy, 1);
    assert_string_equal(p->policy_type, "sts");
    assert_string_equal(p->policy_domain, "company-y.example");
    assert_string_equal(p->mx_host, "*.mail.company-y.example");
    assert_int_equal(p->successes, 5326);
    assert_int_equal(p->failures, 303);
    assert_int_equal(p->nfailure, 3);
    assert_string_equal(p->failure[0].result_type, "certificate-expired");
    assert_int_equal(p->failure[0].sessions, 100);
    assert_string_equal(p->failure[1].result_type, "starttls-not-supported");
    assert_int_equal(p->failure[1].sessions, 200);
    assert_string_equal(p->failure[2].result_type, "validation-failure");
    assert_int_equal(p->failure[2].sessions, 3);
    assert_int_equal(s->successes, 5326);
    assert_int_equal(s->failures, 303);
}

static void
test_valid_plain_and_gzip(void **state)
{
    struct mw_tlsrpt_summary s;
    struct mw_buf json, gz;
    struct mw_err err;

    (void)state;
    sample("valid.json", &json);
    assert_int_equal(
        mw_tlsrpt_accept((unsigned char *)json.data, json.len, MW_TLSRPT_JSON, &s, &err), 0);
    check_valid(&s);
    assert_int_equal(s.json_len, json.len);
    mw_tlsrpt_summary_free(&s);

    gzip(json.data, json.len, &gz);
    assert_int_equal(mw_tlsrpt_accept((unsigned char *)gz.data, gz.len, MW_TLSRPT_GZIP, &s, &err),
                     0);
    check_valid(&s);
    mw_tlsrpt_summary_free(&s);
    assert_int_equal(mw_tlsrpt_accept((unsigned char *)gz.data, gz.len, MW_TLSRPT_AUTO, &s, &err),
                     0);
    check_valid(&s);
    mw_tlsrpt_summary_free(&s);
    assert_int_equal(
        mw_tlsrpt_accept((unsigned char *)json.data, json.len, MW_TLSRPT_AUTO, &s, &err), 0);
    check_valid(&s);
    mw_tlsrpt_summary_free(&s);

    /* Declared gzip but plain JSON: refused, not guessed. */
    assert_int_equal(
        mw_tlsrpt_accept((unsigned char *)json.data, json.len, MW_TLSRPT_GZIP, &s, &err), -1);
    assert_non_null(strstr(err.text, "gzip:"));
    mw_tlsrpt_summary_free(&s);
    mw_buf_release(&json);
    mw_buf_release(&gz);
}

static void
test_two_policies(void **state)
{
    struct mw_tlsrpt_summary s;
    struct mw_buf json;
    struct mw_err err;

    (void)state;
    sample("multi.json", &json);
    assert_int_equal(
        mw_tlsrpt_accept((unsigned char *)json.data, json.len, MW_TLSRPT_JSON, &s, &err), 0);
    assert_string_equal(s.organization, "Mail Sender, Inc.");
    assert_int_equal(s.npolicy, 2);
    assert_string_equal(s.policy[0].policy_type, "tlsa");
    assert_string_equal(s.policy[0].mx_host, "mx.example.org");
    assert_int_equal(s.policy[0].nfailure, 2);
    assert_string_equal(s.policy[0].failure[0].result_type, "tlsa-invalid");
    assert_int_equal(s.policy[0].failure[0].sessions, 3);
    assert_string_equal(s.policy[0].failure[1].result_type, "x-made-up");
    assert_int_equal(s.policy[0].failure[1].sessions, 1);
    assert_string_equal(s.policy[1].policy_type, "no-policy-found");
    assert_string_equal(s.policy[1].policy_domain, "example.net");
    assert_null(s.policy[1].mx_host);
    assert_int_equal(s.policy[1].nfailure, 0);
    assert_int_equal(s.successes, 17);
    assert_int_equal(s.failures, 4);
    mw_tlsrpt_summary_free(&s);
    mw_buf_release(&json);
}

/* Each wrong-schema sample is refused with an error naming the field. */
static void
test_wrong_schema(void **state)
{
    static const struct {
        const char *file, *error;
    } cases[] = {
        {"missing-org.json", "organization-name: missing"},
        {"missing-summary.json", "policies[0].summary: missing"},
        {"string-count.json", "policies[0].summary.total-successful-session-count: not an integer"},
        {"float-count.json", "policies[0].summary.total-successful-session-count: not an integer"},
        {"negative.json", "policies[0].failure-details[0].failed-session-count: negative"},
        {"bad-policy-type.json",
         "policies[0].policy.policy-type: not sts, tlsa or no-policy-found"},
        {"bad-date.json", "date-range.start-datetime: not an RFC 3339 date-time"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mw_tlsrpt_summary s;
        struct mw_buf json;
        struct mw_err err;

        sample(cases[i].file, &json);
        assert_int_equal(
            mw_tlsrpt_accept((unsigned char *)json.data, json.len, MW_TLSRPT_AUTO, &s, &err), -1);
        if (strcmp(err.text, cases[i].error) != 0)
            fail_msg("%s: got \"%s\", want \"%s\"", cases[i].file, err.text, cases[i].error);
        mw_tlsrpt_summary_free(&s);
        mw_buf_release(&json);
    }
}

/* Inline JSON that is not a report, or not JSON. */
static void
test_bad_json(void **state)
{
    static const struct {
        const char *json, *error;
    } cases[] = {
        {"[1,2]", "the report is not a JSON object"},
        {"{\"organization-name\":", "json: truncated"},
        {"{\"a\":1} x", "json: unexpected character at offset 8"},
        {"{\"a\":}", "json: "},
        {"{\"a\":1,}", "json: "},
        {"\"\\u0000\"", "the report is not a JSON object"},
        {"{\"organization-name\":\"\"}", "organization-name: empty"},
        {"{\"organization-name\":\"a\\u0000b\"}", "organization-name: contains a NUL"},
        {"{\"organization-name\":\"\xff\"}", "json: "},
        {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
         "json: "},
        {"{\"organization-name\":\"O\",\"report-id\":\"r\",\"contact-info\":\"c\","
         "\"date-range\":{\"start-datetime\":\"2016-04-01T00:00:00Z\","
         "\"end-datetime\":\"2016-04-01T00:00:00+25:00\"},\"policies\":[]}",
         "date-range.end-datetime: not an RFC 3339 date-time"},
        {"{\"organization-name\":\"O\",\"report-id\":\"r\",\"contact-info\":\"c\","
         "\"date-range\":{\"start-datetime\":\"2016-04-01T00:00:00Z\","
         "\"end-datetime\":\"2016-04-01T00:00:00-01:00\"},\"policies\":[]}",
         "policies: empty"},
        {"{\"organization-name\":\"O\",\"report-id\":\"r\",\"contact-info\":\"c\","
         "\"date-range\":{\"start-datetime\":\"2016-04-01T00:00:00Z\","
         "\"end-datetime\":\"2016-04-01T00:00:00Z\"},\"policies\":{}}",
         "policies: not an array"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mw_tlsrpt_summary s;
        struct mw_err err;

        assert_int_equal(mw_tlsrpt_accept((const unsigned char *)cases[i].json,
                                          strlen(cases[i].json), MW_TLSRPT_JSON, &s, &err),
                         -1);
        if (strncmp(err.text, cases[i].error, strlen(cases[i].error)) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, err.text, cases[i].error);
        mw_tlsrpt_summary_free(&s);
    }
}

/* More than MW_TLSRPT_MAX_RESULT_TYPES distinct result types in one policy: refused. */
static void
test_result_type_limit(void **state)
{
    struct mw_tlsrpt_summary s;
    struct mw_buf json;
    struct mw_err err;
    int i;

    (void)state;
    mw_buf_init(&json);
    mw_buf_puts(&json, "{\"organization-name\":\"O\",\"report-id\":\"r\",\"contact-info\":\"c\","
                       "\"date-range\":{\"start-datetime\":\"2016-04-01T00:00:00Z\","
                       "\"end-datetime\":\"2016-04-01T00:00:00Z\"},\"policies\":[{\"policy\":"
                       "{\"policy-type\":\"sts\",\"policy-domain\":\"d.example\"},\"summary\":"
                       "{\"total-successful-session-count\":1,\"total-failure-session-count\":99},"
                       "\"failure-details\":[");
    for (i = 0; i <= MW_TLSRPT_MAX_RESULT_TYPES; i++)
        mw_buf_printf(&json, "%s{\"result-type\":\"t%d\",\"failed-session-count\":1}", i ? "," : "",
                      i);
    mw_buf_puts(&json, "]}]}");
    assert_int_equal(
        mw_tlsrpt_accept((unsigned char *)json.data, json.len, MW_TLSRPT_JSON, &s, &err), -1);
    assert_string_equal(err.text,
                        "policies[0].failure-details[64]: more than 64 distinct result types");
    mw_tlsrpt_summary_free(&s);
    mw_buf_release(&json);
}

static void
test_truncated_and_corrupt_gzip(void **state)
{
    struct mw_tlsrpt_summary s;
    struct mw_buf json, gz;
    struct mw_err err;
    char want[64];

    (void)state;
    sample("valid.json", &json);
    gzip(json.data, json.len, &gz);

    assert_int_equal(
        mw_tlsrpt_accept((unsigned char *)gz.data, gz.len / 2, MW_TLSRPT_GZIP, &s, &err), -1);
    snprintf(want, sizeof(want), "gzip: truncated after %zu bytes", gz.len / 2);
    assert_string_equal(err.text, want);
    mw_tlsrpt_summary_free(&s);

    /* Without the 8-byte trailer (CRC, length): still truncated. */
    assert_int_equal(
        mw_tlsrpt_accept((unsigned char *)gz.data, gz.len - 4, MW_TLSRPT_GZIP, &s, &err), -1);
    assert_non_null(strstr(err.text, "gzip: truncated"));
    mw_tlsrpt_summary_free(&s);

    /* A flipped byte in the CRC. */
    gz.data[gz.len - 6] ^= 0x55;
    assert_int_equal(mw_tlsrpt_accept((unsigned char *)gz.data, gz.len, MW_TLSRPT_GZIP, &s, &err),
                     -1);
    assert_string_equal(err.text, "gzip: incorrect data check");
    mw_tlsrpt_summary_free(&s);
    gz.data[gz.len - 6] ^= 0x55;

    /* Garbage after the member. */
    mw_buf_append(&gz, "junk", 4);
    assert_int_equal(mw_tlsrpt_accept((unsigned char *)gz.data, gz.len, MW_TLSRPT_GZIP, &s, &err),
                     -1);
    assert_string_equal(err.text, "gzip: 4 bytes after the end of the compressed data");
    mw_tlsrpt_summary_free(&s);
    mw_buf_release(&json);
    mw_buf_release(&gz);
}

static void
test_oversized(void **state)
{
    size_t len = MW_TLSRPT_MAX_INPUT + 1;
    unsigned char *big = mw_malloc(len);
    struct mw_tlsrpt_summary s;
    struct mw_err err;

    (void)state;
    memset(big, ' ', len);
    assert_int_equal(mw_tlsrpt_accept(big, len, MW_TLSRPT_JSON, &s, &err), -1);
    assert_string_equal(err.text, "report of 5242881 bytes, more than 5242880");
    mw_tlsrpt_summary_free(&s);
    assert_int_equal(mw_tlsrpt_accept(big, 0, MW_TLSRPT_JSON, &s, &err), -1);
    assert_string_equal(err.text, "empty report");
    mw_tlsrpt_summary_free(&s);
    mw_free(&big);
}

/* A report padded with 20 MB of white space: a few KB of gzip, refused by the ratio. */
static void
test_gzip_bomb(void **state)
{
    size_t len = 20u * 1024 * 1024;
    char *bomb = mw_malloc(len);
    struct mw_tlsrpt_summary s;
    struct mw_buf gz;
    struct mw_err err;

    (void)state;
    memset(bomb, ' ', len);
    bomb[len - 2] = '{';
    bomb[len - 1] = '}';
    gzip(bomb, len, &gz);
    mw_free(&bomb);
    assert_true(gz.len < 100 * 1024);
    assert_int_equal(mw_tlsrpt_accept((unsigned char *)gz.data, gz.len, MW_TLSRPT_AUTO, &s, &err),
                     -1);
    assert_string_equal(err.text, "gzip: inflates more than 100 times (a gzip bomb?)");
    mw_tlsrpt_summary_free(&s);
    mw_buf_release(&gz);
}

/* 11 MB that compress about 10 times: under the ratio, over the inflated size. */
static void
test_inflated_too_large(void **state)
{
    size_t len = 11u * 1024 * 1024, i;
    char *text = mw_malloc(len);
    uint32_t x = 12345;
    struct mw_tlsrpt_summary s;
    struct mw_buf gz;
    struct mw_err err;

    (void)state;
    for (i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        text[i] = (x >> 16) % 8 == 0 ? (char)('a' + (x >> 20) % 26) : ' ';
    }
    gzip(text, len, &gz);
    mw_free(&text);
    assert_true(gz.len < MW_TLSRPT_MAX_INPUT);
    assert_true(gz.len * MW_TLSRPT_MAX_RATIO > len);
    assert_int_equal(mw_tlsrpt_accept((unsigned char *)gz.data, gz.len, MW_TLSRPT_GZIP, &s, &err),
                     -1);
    assert_string_equal(err.text, "gzip: inflates to more than 10485760 bytes");
    mw_tlsrpt_summary_free(&s);
    mw_buf_release(&gz);
}

static void
test_content_type(void **state)
{
    (void)state;
    assert_int_equal(mw_tlsrpt_content_type("application/tlsrpt+gzip"), MW_TLSRPT_GZIP);
    assert_int_equal(mw_tlsrpt_content_type(" Application/TLSRPT+GZIP; name=r.json.gz"),
                     MW_TLSRPT_GZIP);
    assert_int_equal(mw_tlsrpt_content_type("application/tlsrpt+json;charset=utf-8"),
                     MW_TLSRPT_JSON);
    assert_int_equal(mw_tlsrpt_content_type("application/json"), -1);
    assert_int_equal(mw_tlsrpt_content_type("application/tlsrpt+gzipx"), -1);
    assert_int_equal(mw_tlsrpt_content_type(""), -1);
    assert_int_equal(mw_tlsrpt_content_type(NULL), -1);
}

/* The value of the sample NAME{LABELS} in the Prometheus text, or -1. */
static long long
metric(const char *name_labels)
{
    struct mw_buf out;
    const char *p;
    long long v = -1;

    mw_buf_init(&out);
    mw_metrics_render_prometheus(&out);
    p = out.data;
    while ((p = strstr(p, name_labels)) != NULL) {
        if ((p == out.data || p[-1] == '\n') && p[strlen(name_labels)] == ' ') {
            v = atoll(p + strlen(name_labels) + 1);
            break;
        }
        p++;
    }
    mw_buf_release(&out);
    return v;
}

static void
test_record_counters(void **state)
{
    struct mw_buf json, gz;
    struct mw_err err;

    (void)state;
    sample("valid.json", &json);
    gzip(json.data, json.len, &gz);
    assert_int_equal(
        mw_tlsrpt_receive((unsigned char *)gz.data, gz.len, MW_TLSRPT_GZIP, "mail", "Q1", &err), 0);
    assert_int_equal(mw_tlsrpt_receive((unsigned char *)json.data, json.len, MW_TLSRPT_JSON,
                                       "https", NULL, NULL),
                     0);
    mw_buf_release(&json);
    mw_buf_release(&gz);
    sample("negative.json", &json);
    assert_int_equal(
        mw_tlsrpt_receive((unsigned char *)json.data, json.len, MW_TLSRPT_AUTO, "mail", "Q2", &err),
        -1);
    mw_buf_release(&json);
    sample("multi.json", &json);
    assert_int_equal(
        mw_tlsrpt_receive((unsigned char *)json.data, json.len, MW_TLSRPT_AUTO, "mail", "Q3", &err),
        0);
    mw_buf_release(&json);

    assert_int_equal(metric("mailward_tlsrpt_reports_total{org=\"Company-X\",result=\"accepted\"}"),
                     2);
    assert_int_equal(metric("mailward_tlsrpt_reports_total{org=\"Org\",result=\"rejected\"}"), 1);
    assert_int_equal(metric("mailward_tlsrpt_sessions_total{org=\"Company-X\","
                            "policy_domain=\"company-y.example\",outcome=\"success\"}"),
                     2 * 5326);
    assert_int_equal(metric("mailward_tlsrpt_sessions_total{org=\"Company-X\","
                            "policy_domain=\"company-y.example\",outcome=\"failure\"}"),
                     2 * 303);
    assert_int_equal(metric("mailward_tlsrpt_failures_total{org=\"Company-X\","
                            "result_type=\"starttls-not-supported\"}"),
                     400);
    assert_int_equal(metric("mailward_tlsrpt_failures_total{org=\"Mail Sender_ Inc.\","
                            "result_type=\"tlsa-invalid\"}"),
                     3);
    assert_int_equal(metric("mailward_tlsrpt_failures_total{org=\"Mail Sender_ Inc.\","
                            "result_type=\"other\"}"),
                     1);
    assert_int_equal(metric("mailward_tlsrpt_sessions_total{org=\"Mail Sender_ Inc.\","
                            "policy_domain=\"example.net\",outcome=\"success\"}"),
                     7);
}

/* Past MW_TLSRPT_MAX_ORGS organisations, the rest count as "other". */
static void
test_org_cardinality(void **state)
{
    char json[512], label[128];
    int i;

    (void)state;
    for (i = 0; i < MW_TLSRPT_MAX_ORGS + 10; i++) {
        int n = snprintf(json, sizeof(json),
                         "{\"organization-name\":\"org\\\"%d\\n\",\"report-id\":\"r\","
                         "\"contact-info\":\"c\",\"date-range\":{\"start-datetime\":"
                         "\"2016-04-01T00:00:00Z\",\"end-datetime\":\"2016-04-01T00:00:00Z\"},"
                         "\"policies\":[{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":"
                         "\"d%d.example\"},\"summary\":{\"total-successful-session-count\":1,"
                         "\"total-failure-session-count\":0}}]}",
                         i, i);
        assert_int_equal(mw_tlsrpt_receive((unsigned char *)json, (size_t)n, MW_TLSRPT_JSON,
                                           "https", NULL, NULL),
                         0);
    }
    /* Three orgs were seen before ("Company-X", "Org", "Mail Sender_ Inc."). */
    for (i = 0; i < MW_TLSRPT_MAX_ORGS - 3; i++) {
        snprintf(label, sizeof(label),
                 "mailward_tlsrpt_reports_total{org=\"org_%d_\",result=\"accepted\"}", i);
        assert_int_equal(metric(label), 1);
    }
    snprintf(label, sizeof(label),
             "mailward_tlsrpt_reports_total{org=\"org_%d_\",result=\"accepted\"}", i);
    assert_int_equal(metric(label), -1);
    assert_int_equal(metric("mailward_tlsrpt_reports_total{org=\"other\",result=\"accepted\"}"),
                     13);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_plain_and_gzip),
        cmocka_unit_test(test_two_policies),
        cmocka_unit_test(test_wrong_schema),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_result_type_limit),
        cmocka_unit_test(test_truncated_and_corrupt_gzip),
        cmocka_unit_test(test_oversized),
        cmocka_unit_test(test_gzip_bomb),
        cmocka_unit_test(test_inflated_too_large),
        cmocka_unit_test(test_content_type),
        cmocka_unit_test(test_record_counters),
        cmocka_unit_test(test_org_cardinality),
    };
    int rc;

    mw_log_open("test-tlsrpt", 0);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    mw_metrics_clear();
    return rc;
}
