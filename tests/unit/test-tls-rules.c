/*
 * test-tls-rules.c - unit tests of the tls-rules table parser and domain
 * lists (plugins/tls-rules/table.c) and of the domain syntax check they
 * share with mailward-policyd (mw_policy_domain_parse, lib/policy.c).
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

#include "mw/log.h"
#include "mw/policy-host.h"
#include "tls-rules/table.h"

static struct mw_tlsrules *
parse_ok(const char *text)
{
    struct mw_tlsrules *t = NULL;
    struct mw_err err;

    if (mw_tlsrules_parse("rules", text, strlen(text), &t, &err) < 0)
        fail_msg("unexpected error: %s", err.text);
    return t;
}

/* The error text for a table that must be refused. */
static const char *
parse_bad(const char *text, size_t len)
{
    static struct mw_err err;
    struct mw_tlsrules *t = NULL;

    assert_int_equal(mw_tlsrules_parse("rules", text, len, &t, &err), -1);
    assert_null(t);
    return err.text;
}

/* A literal table (may hold NUL bytes): its length is the literal's. */
#define BAD(lit) parse_bad(lit, sizeof(lit) - 1)

static void
test_good_table(void **state)
{
    struct mw_tlsrules *t = parse_ok("# comment\n"
                                     "\n"
                                     "   # indented comment\n"
                                     "example.net encrypt\n"
                                     "Mixed.Example.COM. dane-only\r\n"
                                     "bank.example\tsecure  match=nexthop:dot-nexthop   "
                                     "protocols=>=TLSv1.2\n"
                                     "last.example none");

    assert_int_equal(mw_tlsrules_count(t), 4);
    assert_string_equal(mw_tlsrules_lookup(t, "example.net", 0), "encrypt");
    assert_string_equal(mw_tlsrules_lookup(t, "mixed.example.com", 0), "dane-only");
    assert_string_equal(mw_tlsrules_lookup(t, "bank.example", 0),
                        "secure match=nexthop:dot-nexthop protocols=>=TLSv1.2");
    assert_string_equal(mw_tlsrules_lookup(t, "last.example", 0), "none");
    /* An exact entry covers neither subdomains nor parent questions. */
    assert_null(mw_tlsrules_lookup(t, "sub.example.net", 0));
    assert_null(mw_tlsrules_lookup(t, "example.net", 1));
    assert_null(mw_tlsrules_lookup(t, "other.org", 0));
    mw_tlsrules_free(&t);
    assert_null(t);
}

static void
test_empty_table(void **state)
{
    struct mw_tlsrules *t = parse_ok("");

    assert_int_equal(mw_tlsrules_count(t), 0);
    assert_null(mw_tlsrules_lookup(t, "example.net", 0));
    mw_tlsrules_free(&t);
}

static void
test_precedence(void **state)
{
    struct mw_tlsrules *t = parse_ok(".net may\n"
                                     ".example.net encrypt\n"
                                     "example.net verify\n"
                                     ".deep.sub.example.net dane\n"
                                     "x.deep.sub.example.net secure\n");

    /* exact beats parent */
    assert_string_equal(mw_tlsrules_lookup(t, "example.net", 0), "verify");
    assert_string_equal(mw_tlsrules_lookup(t, "x.deep.sub.example.net", 0), "secure");
    /* the longest parent wins */
    assert_string_equal(mw_tlsrules_lookup(t, "a.b.example.net", 0), "encrypt");
    assert_string_equal(mw_tlsrules_lookup(t, "y.deep.sub.example.net", 0), "dane");
    assert_string_equal(mw_tlsrules_lookup(t, "other.net", 0), "may");
    /* ".deep.sub.example.net" covers subdomains only, not the name itself */
    assert_string_equal(mw_tlsrules_lookup(t, "deep.sub.example.net", 0), "encrypt");
    assert_null(mw_tlsrules_lookup(t, "net", 0));
    assert_null(mw_tlsrules_lookup(t, "example.org", 0));
    /* Postfix's parent questions: ".example.net" means "subdomains of example.net" */
    assert_string_equal(mw_tlsrules_lookup(t, "example.net", 1), "encrypt");
    assert_string_equal(mw_tlsrules_lookup(t, "deep.sub.example.net", 1), "dane");
    assert_string_equal(mw_tlsrules_lookup(t, "sub.example.net", 1), "encrypt");
    assert_string_equal(mw_tlsrules_lookup(t, "net", 1), "may");
    assert_null(mw_tlsrules_lookup(t, "org", 1));
    mw_tlsrules_free(&t);
}

static void
test_bad_lines(void **state)
{
    const char *e;

    e = BAD("example.net encrypt\nexample.org bogus\n");
    assert_non_null(strstr(e, "rules:2: unknown TLS level \"bogus\""));
    e = BAD("example.net\n");
    assert_non_null(strstr(e, "rules:1: no TLS level"));
    e = BAD("a.example encrypt\nb..example encrypt\n");
    assert_non_null(strstr(e, "rules:2:"));
    e = BAD("ex ample.net encrypt\n");
    assert_non_null(strstr(e, "rules:1: unknown TLS level \"ample.net\""));
    e = BAD("-bad.example encrypt\n");
    assert_non_null(strstr(e, "rules:1:"));
    e = BAD("bad$.example encrypt\n");
    assert_non_null(strstr(e, "rules:1: invalid character"));
    e = BAD(". encrypt\n");
    assert_non_null(strstr(e, "rules:1: empty domain"));
    e = BAD("example.net secure foo=bar\n");
    assert_non_null(strstr(e, "rules:1: unknown policy attribute \"foo\""));
    e = BAD("example.net secure match\n");
    assert_non_null(strstr(e, "is not NAME=VALUE"));
    e = BAD("example.net secure match=\n");
    assert_non_null(strstr(e, "is not NAME=VALUE"));
    e = BAD("example.net encrypt # why\n");
    assert_non_null(strstr(e, "comment must be on a line of its own"));
    e = BAD("example.net encrypt\n  verify\n");
    assert_non_null(strstr(e, "rules:2: line starts with a blank"));
    e = BAD("example.net encrypt\nexample.net\0 encrypt\n");
    assert_non_null(strstr(e, "rules:2: NUL byte"));
    e = BAD("x.example encrypt\nExample.NET encrypt\nexample.net. may\n");
    assert_non_null(strstr(e, "rules:3: duplicate domain example.net (first at line 2)"));
}

static void
test_override(void **state)
{
    struct mw_tlsrules *t =
        parse_ok("example.net override encrypt\n"
                 ".example.net secure match=nexthop\n"
                 "bank.example override  secure match=nexthop protocols=>=TLSv1.2\n"
                 ".override.example override none\n");
    int ovr = -1;
    const char *e;

    assert_int_equal(mw_tlsrules_count(t), 4);
    assert_int_equal(mw_tlsrules_overrides(t), 3);
    assert_string_equal(mw_tlsrules_find(t, "example.net", 0, &ovr), "encrypt");
    assert_int_equal(ovr, 1);
    assert_string_equal(mw_tlsrules_find(t, "mx.example.net", 0, &ovr), "secure match=nexthop");
    assert_int_equal(ovr, 0);
    assert_string_equal(mw_tlsrules_find(t, "bank.example", 0, &ovr),
                        "secure match=nexthop protocols=>=TLSv1.2");
    assert_int_equal(ovr, 1);
    assert_string_equal(mw_tlsrules_find(t, "a.override.example", 0, &ovr), "none");
    assert_int_equal(ovr, 1);
    assert_string_equal(mw_tlsrules_find(t, "override.example", 1, &ovr), "none");
    assert_int_equal(ovr, 1);
    assert_null(mw_tlsrules_find(t, "other.example", 0, &ovr));
    assert_int_equal(ovr, 0);
    /* lookup() still gives the policy alone */
    assert_string_equal(mw_tlsrules_lookup(t, "example.net", 0), "encrypt");
    mw_tlsrules_free(&t);

    e = BAD("example.net override\n");
    assert_non_null(strstr(e, "rules:1: no TLS level after \"override\""));
    e = BAD("example.net override override encrypt\n");
    assert_non_null(strstr(e, "rules:1: unknown TLS level \"override\""));
    e = BAD("example.net encrypt override\n");
    assert_non_null(strstr(e, "rules:1: \"override\" is not NAME=VALUE"));
    /* A domain named "override" is a domain. */
    t = parse_ok("override encrypt\n");
    assert_string_equal(mw_tlsrules_find(t, "override", 0, &ovr), "encrypt");
    assert_int_equal(ovr, 0);
    mw_tlsrules_free(&t);
}

static void
test_long_line(void **state)
{
    size_t n = MW_TLSRULES_LINE_MAX + 10;
    char *text = malloc(n + 1);

    memset(text, 'a', n);
    text[n] = '\0';
    assert_non_null(strstr(parse_bad(text, n), "rules:1: line longer than"));
    free(text);
}

static void
test_load_file(void **state)
{
    char path[] = "/tmp/test-tls-rules-XXXXXX";
    int fd = mkstemp(path);
    struct mw_tlsrules *t = NULL;
    struct mw_err err;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, "example.net encrypt\nbad line here\n", 34), 34);
    close(fd);
    assert_int_equal(mw_tlsrules_load(path, &t, &err), -1);
    assert_non_null(strstr(err.text, path));
    assert_non_null(strstr(err.text, ":2: unknown TLS level \"line\""));
    unlink(path);
    assert_int_equal(mw_tlsrules_load(path, &t, &err), -1);
    assert_non_null(strstr(err.text, "No such file"));
    assert_int_equal(mw_tlsrules_load("/tmp", &t, &err), -1);
    assert_non_null(strstr(err.text, "not a regular file"));
}

static void
test_domains(void **state)
{
    char *words[] = {".example.org", "Exact.Example", "x.y.example.org", NULL};
    struct mw_tlsrules_domains *l = NULL;
    struct mw_err err;

    assert_int_equal(mw_tlsrules_domains_parse(words, &l, &err), 0);
    assert_int_equal(mw_tlsrules_domains_count(l), 3);
    assert_string_equal(mw_tlsrules_domains_match(l, "a.example.org"), ".example.org");
    assert_string_equal(mw_tlsrules_domains_match(l, "a.b.example.org"), ".example.org");
    assert_string_equal(mw_tlsrules_domains_match(l, "x.y.example.org"), "x.y.example.org");
    /* ".example.org" covers subdomains, not the domain itself */
    assert_null(mw_tlsrules_domains_match(l, "example.org"));
    assert_string_equal(mw_tlsrules_domains_match(l, "exact.example"), "exact.example");
    /* a plain entry covers only itself */
    assert_null(mw_tlsrules_domains_match(l, "sub.exact.example"));
    assert_null(mw_tlsrules_domains_match(l, "notexample.org"));
    mw_tlsrules_domains_free(&l);
    assert_null(l);
}

static void
test_domains_bad(void **state)
{
    char *bad[] = {"ok.example", "not a domain!", NULL};
    char *dup[] = {"a.example", "A.example.", NULL};
    char *none[] = {NULL};
    struct mw_tlsrules_domains *l = NULL;
    struct mw_err err;

    assert_int_equal(mw_tlsrules_domains_parse(bad, &l, &err), -1);
    assert_non_null(strstr(err.text, "\"not a domain!\""));
    assert_int_equal(mw_tlsrules_domains_parse(dup, &l, &err), -1);
    assert_non_null(strstr(err.text, "a.example"));
    assert_int_equal(mw_tlsrules_domains_parse(none, &l, &err), 0);
    assert_null(mw_tlsrules_domains_match(l, "a.example"));
    mw_tlsrules_domains_free(&l);
}

static void
test_domain_parse(void **state)
{
    char out[MW_DOMAIN_MAX + 1];
    char label[70], longname[300];
    struct mw_err err;

    assert_int_equal(mw_policy_domain_parse("Example.NET.", 12, out, &err), 0);
    assert_string_equal(out, "example.net");
    assert_int_equal(mw_policy_domain_parse("_mta-sts.x1.example", 19, out, &err), 0);
    assert_string_equal(out, "_mta-sts.x1.example");
    assert_int_equal(mw_policy_domain_parse("", 0, out, &err), -1);
    assert_int_equal(mw_policy_domain_parse(".", 1, out, &err), -1);
    assert_int_equal(mw_policy_domain_parse("a..b", 4, out, &err), -1);
    assert_int_equal(mw_policy_domain_parse("a.b..", 5, out, &err), -1);
    assert_int_equal(mw_policy_domain_parse("a-.b", 4, out, &err), -1);
    assert_int_equal(mw_policy_domain_parse("a.-b", 4, out, &err), -1);
    assert_int_equal(mw_policy_domain_parse("a b", 3, out, &err), -1);
    assert_int_equal(mw_policy_domain_parse("a\0b", 3, out, &err), -1);
    assert_int_equal(mw_policy_domain_parse("\xc3\xa9.example", 10, out, &err), -1);
    memset(label, 'a', 64);
    assert_int_equal(mw_policy_domain_parse(label, 63, out, &err), 0);
    assert_int_equal(mw_policy_domain_parse(label, 64, out, &err), -1);
    for (size_t i = 0; i < sizeof(longname); i++)
        longname[i] = i % 2 ? '.' : 'a';
    assert_int_equal(mw_policy_domain_parse(longname, 253, out, &err), 0);
    assert_int_equal(mw_policy_domain_parse(longname, 255, out, &err), -1);
    assert_non_null(strstr(err.text, "longer than 253"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_table),   cmocka_unit_test(test_empty_table),
        cmocka_unit_test(test_precedence),   cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_long_line),    cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_domains),      cmocka_unit_test(test_domains_bad),
        cmocka_unit_test(test_domain_parse), cmocka_unit_test(test_override),
    };

    mw_log_open("test-tls-rules", 0);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
