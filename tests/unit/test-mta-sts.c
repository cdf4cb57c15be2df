/*
 * test-mta-sts.c - unit tests of the mta-sts plugin's pure parts: the
 * _mta-sts TXT record and policy parsers, the Postfix answer
 * (plugins/mta-sts/policy.c) and the cache entries (entry.c).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mta-sts/entry.h"
#include "mta-sts/policy.h"
#include "mw/alloc.h"
#include "mw/log.h"

static struct mw_sts_policy *
policy_ok(const char *text)
{
    struct mw_sts_policy *p = NULL;
    struct mw_err err;

    if (mw_sts_policy_parse(text, strlen(text), &p, &err) < 0)
        fail_msg("unexpected error for [%s]: %s", text, err.text);
    return p;
}

/* The reason a policy is refused. */
static const char *
policy_bad(const char *text, size_t len)
{
    static struct mw_err err;
    struct mw_sts_policy *p = NULL;

    if (mw_sts_policy_parse(text, len, &p, &err) == 0)
        fail_msg("accepted [%.*s]", (int)len, text);
    assert_null(p);
    return err.text;
}

#define POLICY_BAD(text) policy_bad(text, strlen(text))

static const char *
answer(const char *text, const char *domain, int tlsrpt)
{
    static char out[4096];
    struct mw_sts_policy *p = policy_ok(text);
    struct mw_buf b;
    struct mw_err err;

    mw_buf_init(&b);
    if (mw_sts_policy_answer(p, domain, tlsrpt, 4096, &b, &err) < 0)
        fail_msg("answer: %s", err.text);
    snprintf(out, sizeof(out), "%s", b.data);
    mw_buf_release(&b);
    mw_sts_policy_free(&p);
    return out;
}

static void
test_policy_rfc_example(void **unused)
{
    /* RFC 8461 section 3.2's example, CRLF. */
    struct mw_sts_policy *p =
        policy_ok("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
                  "mx: *.example.net\r\nmx: backupmx.example.com\r\n"
                  "max_age: 604800\r\n");

    assert_int_equal(p->mode, MW_STS_MODE_ENFORCE);
    assert_int_equal(p->max_age, 604800);
    assert_int_equal(p->nmx, 3);
    assert_string_equal(p->mx[0], "mail.example.com");
    assert_string_equal(p->mx[1], "*.example.net");
    assert_string_equal(p->mx[2], "backupmx.example.com");
    mw_sts_policy_free(&p);
    assert_null(p);
}

static void
test_policy_variants(void **unused)
{
    struct mw_sts_policy *p;

    /* LF, no final newline, any field order, blanks after ":" and at the end. */
    p = policy_ok("mode:testing\nmx:   MX.Example.COM  \nmax_age: 86400\nversion: STSv1");
    assert_int_equal(p->mode, MW_STS_MODE_TESTING);
    assert_string_equal(p->mx[0], "mx.example.com");
    mw_sts_policy_free(&p);
    /* Unknown keys ignored (also UTF-8 values), empty lines tolerated. */
    p = policy_ok("version: STSv1\n\nfoo_bar.x-1: some value\xc3\xa9 ok\nmode: enforce\n"
                  "mx: a.example\nmax_age: 0\n\n\n");
    assert_int_equal(p->max_age, 0);
    assert_int_equal(p->nmx, 1);
    mw_sts_policy_free(&p);
    /* mode none needs no mx; max_age is capped. */
    p = policy_ok("version: STSv1\nmode: none\nmax_age: 9999999999\n");
    assert_int_equal(p->mode, MW_STS_MODE_NONE);
    assert_int_equal(p->nmx, 0);
    assert_int_equal(p->max_age, MW_STS_MAX_AGE_MAX);
    mw_sts_policy_free(&p);
    /* Keys are case-sensitive: "Version" is an unknown key, so version is missing. */
    assert_string_equal(POLICY_BAD("Version: STSv1\nmode: none\nmax_age: 1\n"), "missing version");
}

static void
test_policy_bad(void **unused)
{
    const char *base = "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n";
    char big[MW_STS_POLICY_MAX + 2];

    assert_non_null(strstr(POLICY_BAD("version: STSv2\nmode: none\nmax_age: 1\n"), "not STSv1"));
    assert_non_null(strstr(POLICY_BAD("version: STSv1\nmode: maybe\nmax_age: 1\n"), "mode"));
    assert_string_equal(POLICY_BAD("version: STSv1\nmode: enforce\nmax_age: 1\n"), "missing mx");
    assert_string_equal(POLICY_BAD("version: STSv1\nmx: a.example\nmax_age: 1\n"), "missing mode");
    assert_string_equal(POLICY_BAD("version: STSv1\nmode: enforce\nmx: a.example\n"),
                        "missing max_age");
    assert_string_equal(POLICY_BAD(""), "missing version");
    /* Duplicates of single keys. */
    assert_non_null(strstr(POLICY_BAD("mode: none\nversion: STSv1\nmode: enforce\nmax_age: 1\n"),
                           "duplicate mode"));
    assert_non_null(strstr(POLICY_BAD("version: STSv1\nversion: STSv1\nmode: none\nmax_age: 1\n"),
                           "duplicate"));
    assert_non_null(
        strstr(POLICY_BAD("version: STSv1\nmode: none\nmax_age: 1\nmax_age: 2\n"), "duplicate"));
    /* max_age: digits only, at most 10. */
    assert_non_null(strstr(POLICY_BAD("version: STSv1\nmode: none\nmax_age: -1\n"), "max_age"));
    assert_non_null(
        strstr(POLICY_BAD("version: STSv1\nmode: none\nmax_age: 12345678901\n"), "max_age"));
    assert_non_null(strstr(POLICY_BAD("version: STSv1\nmode: none\nmax_age: 1d\n"), "max_age"));
    /* Bad mx patterns: the wildcard is only ever the whole left-most label. */
    static const char *const mx[] = {
        "*",           "*.",           "a.*.example", "*a.example", "a*.example", "**.example",
        "*.*.example", "a.example.",   ".a.example",  "a..example", "-a.example", "a-.example",
        "a_b.example", "a.example:25", "[192.0.2.1]", "a example",  NULL};
    for (const char *const *m = mx; *m; m++) {
        char text[256];
        snprintf(text, sizeof(text), "version: STSv1\nmode: enforce\nmx: %s\nmax_age: 1\n", *m);
        assert_non_null(strstr(POLICY_BAD(text), "line 3: bad "));
    }
    /* A label of 64 bytes. */
    assert_non_null(
        strstr(POLICY_BAD("version: STSv1\nmode: enforce\nmax_age: 1\nmx: "
                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                          ".example\n"),
               "bad mx"));
    /* Lines that are no field: no colon, leading blank, blank before ":", bad key. */
    assert_non_null(strstr(POLICY_BAD("version: STSv1\nmode none\n"), "line 2: not a"));
    assert_non_null(strstr(POLICY_BAD(" version: STSv1\n"), "line 1: not a"));
    assert_non_null(strstr(POLICY_BAD("version : STSv1\n"), "line 1: not a"));
    assert_non_null(strstr(POLICY_BAD("_x: 1\nversion: STSv1\n"), "line 1: not a"));
    assert_non_null(strstr(POLICY_BAD("version: STSv1\nfoo:\n"), "line 2: bad value"));
    /* Control bytes, a NUL, a stray CR, broken UTF-8. */
    assert_non_null(
        strstr(policy_bad("version: STSv1\nfoo: a\0b\n", sizeof("version: STSv1\nfoo: a\0b\n") - 1),
               "line 2"));
    assert_non_null(strstr(POLICY_BAD("version: STSv1\nfoo: a\rb\n"), "line 2"));
    assert_non_null(strstr(POLICY_BAD("version: STSv1\rmode: none\n"), "line 1"));
    assert_non_null(strstr(POLICY_BAD("version: STSv1\nfoo: \xc3(\n"), "line 2"));
    assert_non_null(strstr(POLICY_BAD("version: STSv1\nfoo: \xed\xa0\x80\n"), "line 2"));
    assert_non_null(strstr(POLICY_BAD("version: STSv1\nfoo: a\x1b[0m\n"), "line 2"));
    assert_non_null(strstr(POLICY_BAD("\xef\xbb\xbfversion: STSv1\n"), "line 1"));
    /* Too big. */
    memset(big, '#', sizeof(big));
    memcpy(big, base, strlen(base));
    assert_non_null(strstr(policy_bad(big, sizeof(big)), "larger than"));
}

static void
test_answer(void **unused)
{
    assert_string_equal(
        answer("version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\n"
               "mx: MAIL.example.com\nmax_age: 604800\n",
               "example.com", 0),
        "secure match=mail.example.com:.example.net servername=hostname");
    assert_string_equal(
        answer("version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\n"
               "max_age: 604800\n",
               "example.com", 1),
        "secure match=mail.example.com:.example.net servername=hostname policy_type=sts "
        "policy_domain=example.com mx_host_pattern=mail.example.com "
        "mx_host_pattern=*.example.net { policy_string = version: STSv1 } "
        "{ policy_string = mode: enforce } { policy_string = mx: mail.example.com } "
        "{ policy_string = mx: *.example.net } { policy_string = max_age: 604800 }");
}

static void
test_answer_too_long(void **unused)
{
    struct mw_buf text, out;
    struct mw_sts_policy *p;
    struct mw_err err;

    mw_buf_init(&text);
    mw_buf_puts(&text, "version: STSv1\nmode: enforce\nmax_age: 1\n");
    for (int i = 0; i < 400; i++)
        mw_buf_printf(&text, "mx: mx%d.example.com\n", i);
    p = policy_ok(text.data);
    assert_int_equal(p->nmx, 400);
    mw_buf_init(&out);
    mw_buf_puts(&out, "keep");
    assert_int_equal(mw_sts_policy_answer(p, "example.com", 0, 4096, &out, &err), -1);
    assert_string_equal(out.data, "keep");
    assert_non_null(strstr(err.text, "exceed 4096"));
    mw_buf_release(&out);
    mw_buf_release(&text);
    mw_sts_policy_free(&p);
}

static int
txt(const char *rec, char *id)
{
    struct mw_err err;

    return mw_sts_txt_parse(rec, strlen(rec), id, &err);
}

static void
test_txt(void **unused)
{
    char id[MW_STS_ID_MAX + 1];

    assert_int_equal(txt("v=STSv1; id=20160831085700Z;", id), 0);
    assert_string_equal(id, "20160831085700Z");
    assert_int_equal(txt("v=STSv1;id=abc", id), 0);
    assert_string_equal(id, "abc");
    assert_int_equal(txt("v=STSv1 ;\tid=abc ; ext.x-y_z=some!value ", id), 0);
    assert_int_equal(txt("v=STSv1; ext=1; id=12345678901234567890123456789012", id), 0);
    assert_string_equal(id, "12345678901234567890123456789012");
    /* Refused. */
    static const char *const bad[] = {"v=STSv1",
                                      "v=STSv1;",
                                      "v=STSv1; id=",
                                      "v=STSv1; id=not-alphanumeric",
                                      "v=STSv1; id=123456789012345678901234567890123",
                                      "v=STSv1; id=a; id=b",
                                      "v=STSv1; ID=abc",
                                      "v=STSv1 id=abc",
                                      "v=STSv1;; id=abc",
                                      "v=STSv1; id=abc;;",
                                      "v=STSv1; id=abc; x=",
                                      "v=STSv1; id=abc; =x",
                                      "v=STSv1; id=abc; x=a=b",
                                      "v=STSv1; id=abc; x y=1",
                                      "v=STSv1; id=abc; _x=1",
                                      "v=STSv1; id=abc; x=\x01",
                                      "v=STSv2; id=abc",
                                      " v=STSv1; id=abc",
                                      "v=STSv10; id=abc",
                                      NULL};
    for (const char *const *b = bad; *b; b++)
        if (txt(*b, id) == 0)
            fail_msg("accepted [%s]", *b);
}

static int
pick(const char *const *recs, char *id, const char **why)
{
    static struct mw_err err;
    struct mw_buf b[4] = {{NULL, 0, 0}};
    size_t n = 0;
    int rc;

    for (; recs[n]; n++) {
        mw_buf_init(&b[n]);
        mw_buf_puts(&b[n], recs[n]);
    }
    rc = mw_sts_txt_pick(b, n, id, &err);
    for (size_t i = 0; i < n; i++)
        mw_buf_release(&b[i]);
    *why = err.text;
    return rc;
}

static void
test_txt_pick(void **unused)
{
    char id[MW_STS_ID_MAX + 1];
    const char *why;
    const char *one[] = {"v=spf1 -all", "v=STSv1; id=one", "hello", NULL};
    const char *two[] = {"v=STSv1; id=one", "v=STSv1; id=two", NULL};
    const char *none[] = {"v=spf1 -all", "v=STSv10; id=x", NULL};
    const char *invalid[] = {"v=STSv1; id=a-b", NULL};
    const char *empty[] = {NULL};

    assert_int_equal(pick(one, id, &why), 0);
    assert_string_equal(id, "one");
    assert_int_equal(pick(two, id, &why), -1);
    assert_non_null(strstr(why, "2 v=STSv1 records"));
    assert_int_equal(pick(none, id, &why), -1);
    assert_non_null(strstr(why, "no v=STSv1"));
    assert_int_equal(pick(invalid, id, &why), -1);
    assert_non_null(strstr(why, "invalid"));
    assert_int_equal(pick(empty, id, &why), -1);
}

static void
test_entry(void **unused)
{
    struct mw_sts_entry e, d;
    struct mw_buf b;
    struct mw_err err;
    const char *body = "version: STSv1\nmode: none\nmax_age: 5\n";

    memset(&e, 0, sizeof(e));
    e.has_policy = 1;
    e.fetched = 1700000000;
    e.next_check = 1700003600;
    strcpy(e.id, "abc123");
    e.body = body;
    e.body_len = strlen(body);
    mw_buf_init(&b);
    mw_sts_entry_encode(&e, &b);
    assert_int_equal(mw_sts_entry_decode(b.data, b.len, &d, &err), 0);
    assert_int_equal(d.has_policy, 1);
    assert_true(d.fetched == 1700000000 && d.next_check == 1700003600);
    assert_string_equal(d.id, "abc123");
    assert_int_equal(d.body_len, strlen(body));
    assert_memory_equal(d.body, body, d.body_len);
    mw_buf_reset(&b);
    e.has_policy = 0;
    mw_sts_entry_encode(&e, &b);
    assert_string_equal(b.data, "mw-sts1 none");
    assert_int_equal(mw_sts_entry_decode(b.data, b.len, &d, &err), 0);
    assert_int_equal(d.has_policy, 0);
    mw_buf_release(&b);
    /* Values another writer may have left. */
    static const char *const bad[] = {"",
                                      "mw-sts1",
                                      "mw-sts1 nonex",
                                      "mw-sts2 none",
                                      "mw-sts1 policy 1 2 abc",
                                      "mw-sts1 policy 1 2 \n",
                                      "mw-sts1 policy 1 2 a-b\n",
                                      "mw-sts1 policy -1 2 abc\n",
                                      "mw-sts1 policy 1  2 abc\n",
                                      "mw-sts1 policy 99999999999 2 abc\n",
                                      "mw-sts1 policy 1 2 123456789012345678901234567890123\n",
                                      NULL};
    for (const char *const *v = bad; *v; v++)
        if (mw_sts_entry_decode(*v, strlen(*v), &d, &err) == 0)
            fail_msg("decoded [%s]", *v);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_rfc_example), cmocka_unit_test(test_policy_variants),
        cmocka_unit_test(test_policy_bad),         cmocka_unit_test(test_answer),
        cmocka_unit_test(test_answer_too_long),    cmocka_unit_test(test_txt),
        cmocka_unit_test(test_txt_pick),           cmocka_unit_test(test_entry),
    };

    mw_log_open("test-mta-sts", 0);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
