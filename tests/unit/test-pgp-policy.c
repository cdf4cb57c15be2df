/*
 * test-pgp-policy.c - unit tests of the pgp plugin's policy table
 * (plugins/pgp/policy.c): syntax, refusals with line numbers, and the
 * address > domain > longest .domain precedence.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "pgp/policy.h"

static struct mw_pgp_table *
parse_ok(const char *text)
{
    struct mw_pgp_table *t = NULL;
    struct mw_err err;

    if (mw_pgp_table_parse("policy", text, strlen(text), &t, &err) < 0)
        fail_msg("unexpected error: %s", err.text);
    return t;
}

static void
test_lookup(void **unused)
{
    struct mw_pgp_table *t = parse_ok("# rules\n"
                                      "\n"
                                      "Bob@Example.NET always   # one person\n"
                                      "example.net if-key\n"
                                      ".example.net never\n"
                                      ".deep.example.net always\r\n"
                                      "other.test\tnever\n");

    (void)unused;
    assert_int_equal(mw_pgp_table_size(t), 5);
    assert_int_equal(mw_pgp_table_lookup(t, "bob@example.net"), MW_PGP_ALWAYS);
    assert_int_equal(mw_pgp_table_lookup(t, "BOB@EXAMPLE.NET"), MW_PGP_ALWAYS);
    assert_int_equal(mw_pgp_table_lookup(t, "carol@example.net"), MW_PGP_IF_KEY);
    assert_int_equal(mw_pgp_table_lookup(t, "carol@a.example.net"), MW_PGP_NEVER);
    assert_int_equal(mw_pgp_table_lookup(t, "carol@x.deep.example.net"), MW_PGP_ALWAYS);
    /* ".deep.example.net" covers subdomains only: deep.example.net itself is under .example.net. */
    assert_int_equal(mw_pgp_table_lookup(t, "carol@deep.example.net"), MW_PGP_NEVER);
    assert_int_equal(mw_pgp_table_lookup(t, "x@other.test"), MW_PGP_NEVER);
    assert_int_equal(mw_pgp_table_lookup(t, "x@unknown.test"), -1);
    assert_int_equal(mw_pgp_table_lookup(t, "no-at-sign"), -1);
    assert_int_equal(mw_pgp_table_lookup(NULL, "bob@example.net"), -1);
    mw_pgp_table_free(&t);
    assert_null(t);
}

static void
test_refused(void **unused)
{
    static const struct {
        const char *text, *why;
    } bad[] = {
        {"example.net\n", "policy:1: expected"},
        {"\nexample.net sometimes\n", "policy:2: mode must be"},
        {"example.net never extra\n", "policy:1: expected"},
        {"@example.net never\n", "policy:1: bad address"},
        {"a@b@c never\n", "policy:1: bad address"},
        {"a@ never\n", "policy:1: bad address"},
        {". never\n", "policy:1: bad address"},
        {"a.test never\nA.TEST always\n", "listed twice"},
    };
    struct mw_pgp_table *t = NULL;
    struct mw_err err;
    char big[1200];

    (void)unused;
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        assert_int_equal(mw_pgp_table_parse("policy", bad[i].text, strlen(bad[i].text), &t, &err),
                         -1);
        if (strstr(err.text, bad[i].why) == NULL)
            fail_msg("%s: got \"%s\"", bad[i].text, err.text);
    }
    memset(big, 'a', sizeof(big));
    assert_int_equal(mw_pgp_table_parse("policy", big, sizeof(big), &t, &err), -1);
    assert_int_equal(mw_pgp_table_parse("policy", "a.test\0 never", 13, &t, &err), -1);
    assert_null(t);
}

static void
test_modes(void **unused)
{
    enum mw_pgp_mode m;

    (void)unused;
    assert_int_equal(mw_pgp_mode_parse("if-key", &m), 0);
    assert_int_equal(m, MW_PGP_IF_KEY);
    assert_int_equal(mw_pgp_mode_parse("IF-KEY", &m), -1);
    assert_string_equal(mw_pgp_mode_name(MW_PGP_ALWAYS), "always");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
