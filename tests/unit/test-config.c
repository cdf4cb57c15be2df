/*
 * test-config.c - unit tests of lib/config.c, lib/config-core.c and lib/addr.c.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mw/addr.h"
#include "mw/alloc.h"
#include "mw/config.h"
#include "mw/log.h"

static struct mw_config *
parse(const char *text, struct mw_err *err)
{
    return mw_config_parse("test.conf", text, strlen(text), err);
}

static int
validate(struct mw_config *cfg)
{
    return mw_config_validate(cfg, mw_cfg_core_sections, 5);
}

static void
test_defaults(void **state)
{
    struct mw_err err;
    struct mw_config *cfg = parse("", &err);
    char **v;
    size_t n;

    assert_non_null(cfg);
    assert_int_equal(validate(cfg), 0);
    assert_string_equal(mw_config_str(cfg, "cache", "backend"), "memory");
    assert_int_equal(mw_config_int(cfg, "dns", "timeout_ms"), 5000);
    assert_int_equal(mw_config_int(cfg, "general", "stats_interval"), 60);
    assert_false(mw_config_bool(cfg, "general", "debug"));
    assert_string_equal(mw_config_where(cfg, "dns", "timeout_ms"), "default");
    v = mw_config_list(cfg, "milter", "internal_hosts", &n);
    assert_int_equal(n, 2);
    assert_string_equal(v[0], "127.0.0.1/32");
    assert_string_equal(v[1], "::1/128");
    assert_null(v[2]);
    mw_strv_free(&v);
    assert_null(v);
    mw_config_free(&cfg);
    assert_null(cfg);
}

static void
test_values_and_inline_comments(void **state)
{
    struct mw_err err;
    struct mw_config *cfg = parse("; comment\n"
                                  "[general]\n"
                                  "stats_interval = 10   ; every ten seconds\n"
                                  "debug = yes\n"
                                  "[dns]\n"
                                  "forwarders = 127.0.0.1@5353, ::1\n"
                                  "[cache]\n"
                                  "backend = redis\n",
                                  &err);

    assert_non_null(cfg);
    assert_int_equal(validate(cfg), 0);
    assert_int_equal(mw_config_int(cfg, "general", "stats_interval"), 10);
    assert_true(mw_config_bool(cfg, "general", "debug"));
    assert_string_equal(mw_config_str(cfg, "cache", "backend"), "redis");
    assert_string_equal(mw_config_where(cfg, "cache", "backend"), "test.conf:8");
    mw_config_free(&cfg);
}

static void
test_problems_counted(void **state)
{
    struct mw_err err;
    struct mw_config *cfg = parse("[general]\n"
                                  "stats_interval = often\n" /* not a number */
                                  "colour = blue\n"          /* unknown key */
                                  "[nosuch]\n"
                                  "x = 1\n"                  /* unknown section */
                                  "[cache]\n"
                                  "backend = memcached\n"    /* not a choice */
                                  "[dns]\n"
                                  "timeout_ms = 5\n"         /* out of range */
                                  "forwarders = 1.2.3.4@99999\n"
                                  "[policyd]\n"
                                  "socketmap_listen = nowhere\n",
                                  &err);

    assert_non_null(cfg);
    assert_int_equal(validate(cfg), 7);
    mw_config_free(&cfg);
}

static void
test_syntax_error_names_line(void **state)
{
    struct mw_err err;
    struct mw_config *cfg = parse("[general]\nuser = x\nthis line is wrong\n", &err);

    assert_null(cfg);
    assert_non_null(strstr(err.text, "test.conf:3:"));
}

static void
test_duplicate_key(void **state)
{
    struct mw_err err;
    struct mw_config *cfg = parse("[general]\nuser = a\n[dns]\n[general]\nuser = b\n", &err);

    assert_null(cfg);
    assert_non_null(strstr(err.text, "test.conf:5:"));
    assert_non_null(strstr(err.text, "test.conf:2"));
}

static void
test_missing_file(void **state)
{
    struct mw_err err;
    struct mw_config *cfg;

    cfg = mw_config_load("/nonexistent/mailward.conf", 0, &err);
    assert_null(cfg);
    assert_non_null(strstr(err.text, "/nonexistent/mailward.conf"));
    cfg = mw_config_load("/nonexistent/mailward.conf", 1, &err);
    assert_non_null(cfg);
    assert_int_equal(validate(cfg), 0);
    mw_config_free(&cfg);
}

static void
test_cidr(void **state)
{
    struct mw_cidr_list l;
    struct mw_err err;

    assert_int_equal(mw_cidr_list_parse("10.0.0.0/8 192.0.2.1, 2001:db8::/32 ::1/128", &l, &err),
                     0);
    assert_true(mw_cidr_list_match(&l, "10.1.2.3"));
    assert_true(mw_cidr_list_match(&l, "192.0.2.1"));
    assert_false(mw_cidr_list_match(&l, "192.0.2.2"));
    assert_true(mw_cidr_list_match(&l, "2001:db8:1::5"));
    assert_false(mw_cidr_list_match(&l, "2001:db9::1"));
    assert_true(mw_cidr_list_match(&l, "::ffff:10.9.9.9"));
    assert_true(mw_cidr_list_match(&l, "::1"));
    assert_false(mw_cidr_list_match(&l, "not-an-ip"));
    mw_cidr_list_release(&l);

    assert_int_equal(mw_cidr_list_parse("0.0.0.0/0", &l, &err), 0);
    assert_true(mw_cidr_list_match(&l, "203.0.113.7"));
    assert_false(mw_cidr_list_match(&l, "::2"));
    mw_cidr_list_release(&l);

    assert_int_equal(mw_cidr_list_parse("10.0.0.0/33", &l, &err), -1);
    assert_int_equal(mw_cidr_list_parse("10.0.0/8", &l, &err), -1);
    assert_int_equal(mw_cidr_list_parse("::1/129", &l, &err), -1);
    assert_int_equal(mw_cidr_list_parse("10.0.0.0/", &l, &err), -1);
}

static void
test_strv_split(void **state)
{
    size_t n;
    char **v = mw_strv_split("  a,b\t c ,, ", &n);

    assert_int_equal(n, 3);
    assert_string_equal(v[0], "a");
    assert_string_equal(v[2], "c");
    mw_strv_free(&v);
    v = mw_strv_split("", &n);
    assert_int_equal(n, 0);
    assert_null(v[0]);
    mw_strv_free(&v);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values_and_inline_comments),
        cmocka_unit_test(test_problems_counted),
        cmocka_unit_test(test_syntax_error_names_line),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_cidr),
        cmocka_unit_test(test_strv_split),
    };

    mw_log_open("test-config", 0);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
