/*
 * test-publish-table.c - unit tests of the MTA-STS sites we publish
 * (policyd/publish-table.c): the policy_file parser, the served policy text,
 * the file line, put/replace, and "same policy" (which decides the id).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../policyd/publish-table.h"
#include "mw/alloc.h"
#include "mw/log.h"

static void
parse_ok(const char *text, struct mw_sts_table *t)
{
    struct mw_err err;

    if (mw_sts_table_parse("t", text, strlen(text), t, &err) < 0)
        fail_msg("unexpected error for [%s]: %s", text, err.text);
}

static void
test_parse_and_serve(void **state)
{
    struct mw_sts_table t;
    struct mw_sts_site *s;
    struct mw_buf b;

    (void)state;
    parse_ok("# policies\n\n  # indented comment\r\n"
             "Example.ORG mode=enforce max_age=604800 mx=MX1.example.org,*.example.org id=abc123\n"
             "example.net\tmode=testing max_age=0 mx=mail.example.net cert=/c.pem key=/k.pem\r\n",
             &t);
    assert_int_equal(t.n, 2);
    s = mw_sts_table_find(&t, "EXAMPLE.org");
    assert_non_null(s);
    assert_string_equal(s->domain, "example.org");
    assert_string_equal(s->id, "abc123");
    assert_null(s->cert);
    mw_buf_init(&b);
    mw_sts_site_policy(s, &b);
    assert_string_equal(b.data, "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\n"
                                "mx: *.example.org\r\nmax_age: 604800\r\n");
    mw_buf_reset(&b);
    mw_sts_site_format(mw_sts_table_find(&t, "example.net"), &b);
    assert_string_equal(b.data, "example.net mode=testing max_age=0 mx=mail.example.net "
                                "cert=/c.pem key=/k.pem\n");
    mw_buf_release(&b);
    assert_null(mw_sts_table_find(&t, "example.com"));
    mw_sts_table_release(&t);
}

static void
test_parse_bad(void **state)
{
    static const char *const bad[] = {
        "example.org mode=enforce max_age=1 mx=a.example.org extra\n",
        "example.org mode=strict max_age=1 mx=a.example.org\n",
        "example.org mode=enforce max_age=31557601 mx=a.example.org\n",
        "example.org mode=enforce max_age=-1 mx=a.example.org\n",
        "example.org mode=enforce max_age=1x mx=a.example.org\n",
        "example.org mode=enforce mx=a.example.org\n",
        "example.org mode=enforce max_age=1\n",
        "example.org mode=enforce max_age=1 mx=,\n", /* fuzz-publish-table: no pattern */
        "example.org max_age=1 mx=a.example.org\n",
        "example.org mode=enforce max_age=1 mx=a.*.org\n",
        "example.org mode=enforce max_age=1 mx=**.org\n",
        "example.org mode=enforce max_age=1 mx=a.example.org id=not-alnum\n",
        "example.org mode=enforce max_age=1 mx=a.example.org "
        "id=123456789012345678901234567890123\n",
        "example.org mode=enforce max_age=1 mx=a.example.org cert=/c.pem\n",
        "example.org mode=enforce max_age=1 mx=a.example.org color=red\n",
        "example.org mode=enforce mode=none max_age=1 mx=a.example.org\n",
        "example.org mode=enforce max_age=1 max_age=2 mx=a.example.org\n",
        "*.example.org mode=enforce max_age=1 mx=a.example.org\n",
        "example.org. mode=enforce max_age=1 mx=a.example.org\n",
        "exa/mple.org mode=enforce max_age=1 mx=a.example.org\n",
        "a.org mode=none max_age=1 mx=x.a.org\na.org mode=none max_age=1 mx=x.a.org\n",
        NULL,
    };
    struct mw_sts_table t;
    struct mw_err err;
    char big[5000];

    (void)state;
    for (const char *const *v = bad; *v; v++)
        if (mw_sts_table_parse("t", *v, strlen(*v), &t, &err) == 0)
            fail_msg("accepted [%s]", *v);
    assert_int_equal(
        mw_sts_table_parse("f", "a.org mode=none max_age=1 mx=x.a.org\0\n", 38, &t, &err), -1);
    assert_string_equal(err.text, "f:1: NUL byte");
    memset(big, 'a', sizeof(big));
    assert_int_equal(mw_sts_table_parse("f", big, sizeof(big), &t, &err), -1);
    assert_string_equal(err.text, "f:1: line too long");
    parse_ok("", &t);
    assert_int_equal(t.n, 0);
}

static void
test_put_and_same(void **state)
{
    struct mw_sts_table t;
    struct mw_sts_site s = {0};
    char *mx[] = {"mx.example.org", NULL};

    (void)state;
    parse_ok("example.org mode=testing max_age=86400 mx=mx.example.org id=one\n", &t);
    s.domain = "example.org";
    s.mode = "testing";
    s.max_age = 86400;
    s.mx = mx;
    s.nmx = 1;
    assert_true(mw_sts_site_same_policy(&t.sites[0], &s));
    s.mode = "enforce";
    assert_false(mw_sts_site_same_policy(&t.sites[0], &s));
    s.id = "two";
    mw_sts_table_put(&t, &s);
    assert_int_equal(t.n, 1);
    assert_string_equal(t.sites[0].mode, "enforce");
    assert_string_equal(t.sites[0].id, "two");
    s.domain = "example.net";
    mw_sts_table_put(&t, &s);
    assert_int_equal(t.n, 2);
    mw_sts_table_release(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_serve),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_put_and_same),
    };

    mw_log_open("test-publish-table", 0);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
