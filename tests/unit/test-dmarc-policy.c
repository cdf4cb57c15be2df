/*
 * test-dmarc-policy.c - unit tests of plugins/dmarc: organizational domains
 * from the Public Suffix List (psl.c), the DMARC record as libopendmarc
 * parses it, alignment and the verdict (policy.c), the version tag check
 * of policy discovery (discover.c).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dmarc/discover.h"
#include "dmarc/policy.h"
#include "dmarc/psl.h"

#define MW_TEST_PSL_FILE "/usr/share/publicsuffix/public_suffix_list.dat"

static const char mw_test_list[] = "// a small list in the published format\n"
                                   "com\n"
                                   "uk\n"
                                   "co.uk\n"
                                   "\n"
                                   "  // indented comment\n"
                                   "*.ck\n"
                                   "!www.ck\n"
                                   "jp\n"
                                   "*.kawasaki.jp\n"
                                   "!city.kawasaki.jp\n"
                                   "cn\n"
                                   "\xe5\x85\xac\xe5\x8f\xb8.cn\n" /* 公司.cn */
                                   "\xce\xb5\xce\xbb\n"            /* ελ */
                                   "org trailing words are ignored\r\n"
                                   "bad..rule\n"
                                   "\xff\xfe.bad\n";

static struct mw_psl *
test_psl(void)
{
    struct mw_err err;
    struct mw_psl *psl = mw_psl_parse(mw_test_list, sizeof(mw_test_list) - 1, &err);

    assert_non_null(psl);
    return psl;
}

static const char *
org(const struct mw_psl *psl, const char *d)
{
    static char out[MW_DNS_NAME_MAX + 1];

    return mw_psl_org_domain(psl, d, out) == 0 ? out : "ERR";
}

static void
test_psl_rules(void **state)
{
    struct mw_psl *psl = test_psl();

    assert_int_equal(mw_psl_count(psl), 12);
    assert_string_equal(org(psl, "example.com"), "example.com");
    assert_string_equal(org(psl, "a.b.example.com"), "example.com");
    assert_string_equal(org(psl, "com"), "com");
    assert_string_equal(org(psl, "a.example.co.uk"), "example.co.uk");
    assert_string_equal(org(psl, "co.uk"), "co.uk");
    assert_string_equal(org(psl, "x.example.uk"), "example.uk");
    /* Wildcards and their exceptions. */
    assert_string_equal(org(psl, "a.b.ck"), "a.b.ck");
    assert_string_equal(org(psl, "b.ck"), "b.ck");
    assert_string_equal(org(psl, "www.ck"), "www.ck");
    assert_string_equal(org(psl, "a.www.ck"), "www.ck");
    assert_string_equal(org(psl, "a.b.c.kawasaki.jp"), "b.c.kawasaki.jp");
    assert_string_equal(org(psl, "a.city.kawasaki.jp"), "city.kawasaki.jp");
    /* The implicit rule "*": an unlisted TLD. */
    assert_string_equal(org(psl, "sub.valid.test"), "valid.test");
    assert_string_equal(org(psl, "valid.test"), "valid.test");
    assert_string_equal(org(psl, "test"), "test");
    /* Unicode rules match their A-labels. */
    assert_string_equal(org(psl, "x.y.xn--55qx5d.cn"), "y.xn--55qx5d.cn");
    assert_string_equal(org(psl, "x.y.xn--qxam"), "y.xn--qxam");
    assert_string_equal(org(psl, "x.y.org"), "y.org");
    /* Only lowercase host names are looked up. */
    assert_string_equal(org(psl, "Example.com"), "ERR");
    assert_string_equal(org(psl, ""), "ERR");
    assert_string_equal(org(psl, "a..example.com"), "ERR");
    assert_string_equal(org(psl, "example.com."), "ERR");
    mw_psl_free(&psl);
    assert_null(psl);
}

static void
test_psl_file(void **state)
{
    struct mw_err err;
    struct mw_psl *psl = mw_psl_load(MW_TEST_PSL_FILE, &err);

    assert_non_null(psl);
    assert_true(mw_psl_count(psl) > 5000);
    assert_string_equal(org(psl, "a.b.example.co.uk"), "example.co.uk");
    assert_string_equal(org(psl, "a.b.c.kawasaki.jp"), "b.c.kawasaki.jp");
    assert_string_equal(org(psl, "x.y.xn--55qx5d.cn"), "y.xn--55qx5d.cn");
    assert_string_equal(org(psl, "mail.example.com"), "example.com");
    assert_string_equal(org(psl, "sub.valid.test"), "valid.test");
    mw_psl_free(&psl);
    assert_null(mw_psl_load("/nonexistent/psl.dat", &err));
    assert_non_null(strstr(err.text, "/nonexistent/psl.dat"));
    assert_null(mw_psl_parse("// only comments\n\n", 18, &err));
}

static void
test_alignment(void **state)
{
    struct mw_psl *psl = test_psl();

    assert_true(mw_dmarc_aligned(psl, "example.org", "example.org", true));
    assert_true(mw_dmarc_aligned(psl, "example.org", "EXAMPLE.org", true));
    /* Strict is the same name: libopendmarc 1.4 calls the first of these aligned. */
    assert_false(mw_dmarc_aligned(psl, "example.org", "sub.example.org", true));
    assert_false(mw_dmarc_aligned(psl, "sub.example.org", "example.org", true));
    assert_true(mw_dmarc_aligned(psl, "sub.example.org", "example.org", false));
    assert_true(mw_dmarc_aligned(psl, "example.org", "a.example.org", false));
    assert_true(mw_dmarc_aligned(psl, "a.example.org", "b.example.org", false));
    /* A public suffix is nobody's organizational domain. */
    assert_false(mw_dmarc_aligned(psl, "example.co.uk", "co.uk", false));
    assert_false(mw_dmarc_aligned(psl, "a.example.co.uk", "b.other.co.uk", false));
    assert_false(mw_dmarc_aligned(psl, "example.org", "example.org.evil.test", false));
    assert_false(mw_dmarc_aligned(psl, "example.org", "xexample.org", false));
    assert_false(mw_dmarc_aligned(psl, "example.org", "", false));
    assert_false(mw_dmarc_aligned(psl, "example.org", NULL, false));
    assert_false(mw_dmarc_aligned(psl, "example.org", "exa mple.org", false));
    mw_psl_free(&psl);
}

static void
test_record(void **state)
{
    struct mw_dmarc_record r;
    struct mw_err err;
    char longrec[MW_DMARC_RECORD_MAX + 64];

    assert_int_equal(mw_dmarc_record_parse("v=DMARC1; p=reject", "example.org", NULL, &r, &err), 0);
    assert_int_equal(r.p, MW_DMARC_P_REJECT);
    assert_false(r.has_sp);
    assert_int_equal(r.sp, MW_DMARC_P_REJECT);
    assert_int_equal(r.pct, 100);
    assert_false(r.adkim_strict);
    assert_false(r.aspf_strict);
    assert_int_equal(mw_dmarc_record_parse("v=DMARC1; p=none; sp=reject; pct=0; adkim=s; aspf=s; "
                                           "rua=mailto:dmarc@example.org",
                                           "a.example.org", "example.org", &r, &err),
                     0);
    assert_int_equal(r.p, MW_DMARC_P_NONE);
    assert_true(r.has_sp);
    assert_int_equal(r.sp, MW_DMARC_P_REJECT);
    assert_int_equal(r.pct, 0);
    assert_true(r.adkim_strict);
    assert_true(r.aspf_strict);
    assert_int_equal(mw_dmarc_record_parse("v=DMARC1;p=quarantine;pct=50", "e.org", NULL, &r, &err),
                     0);
    assert_int_equal(r.p, MW_DMARC_P_QUARANTINE);
    assert_int_equal(r.pct, 50);
    assert_int_equal(mw_dmarc_record_parse("v=DMARC1; p=bogus", "e.org", NULL, &r, &err), -1);
    assert_string_equal(err.text, "invalid DMARC record: bad tag value");
    assert_int_equal(mw_dmarc_record_parse("v=DMARC1; sp=reject", "e.org", NULL, &r, &err), -1);
    assert_string_equal(err.text, "invalid DMARC record: no p= tag");
    assert_int_equal(mw_dmarc_record_parse("v=DMARC1; p=none; pct=200", "e.org", NULL, &r, &err),
                     -1);
    memset(longrec, 'x', sizeof(longrec));
    memcpy(longrec, "v=DMARC1; p=none; rua=", 22);
    longrec[sizeof(longrec) - 1] = '\0';
    assert_int_equal(mw_dmarc_record_parse(longrec, "e.org", NULL, &r, &err), -1);
}

static void
test_version_tag(void **state)
{
#define V1(s) mw_dmarc_record_is_v1(s, strlen(s))
    assert_true(V1("v=DMARC1; p=none"));
    assert_true(V1("v = DMARC1 ;p=none"));
    assert_true(V1("V=DMARC1"));
    assert_true(V1("v=DMARC1"));
    assert_false(V1("v=dmarc1; p=none"));
    assert_false(V1("v=DMARC10; p=none"));
    assert_false(V1("p=none; v=DMARC1"));
    assert_false(V1(" v=DMARC1"));
    assert_false(V1("v=spf1 -all"));
    assert_false(V1("v="));
    assert_false(V1(""));
#undef V1
}

/* One verdict: results are "method:result:domain[:scope]" words. */
static void
judge(const struct mw_psl *psl, const char *from, const char *rec, bool fallback, unsigned roll,
      const char *const *words, struct mw_dmarc_verdict *v)
{
    struct mw_auth_result r[8];
    const struct mw_auth_result *p[8];
    char copy[8][128];
    struct mw_dmarc_record record;
    struct mw_err err;
    size_t n = 0;

    for (; words[n] != NULL; n++) {
        char *save = NULL;

        snprintf(copy[n], sizeof(copy[n]), "%s", words[n]);
        memset(&r[n], 0, sizeof(r[n]));
        r[n].method = strtok_r(copy[n], ":", &save);
        r[n].result = strtok_r(NULL, ":", &save);
        r[n].domain = strtok_r(NULL, ":", &save);
        r[n].scope = strtok_r(NULL, ":", &save);
        p[n] = &r[n];
    }
    assert_int_equal(
        mw_dmarc_record_parse(rec, from, fallback ? "example.org" : NULL, &record, &err), 0);
    mw_dmarc_evaluate(psl,
                      &(struct mw_dmarc_input){.from = from,
                                               .fallback = fallback,
                                               .rec = &record,
                                               .results = p,
                                               .nresults = n,
                                               .bounce = roll == 1000,
                                               .roll = roll == 1000 ? 0 : roll},
                      v);
}

#define RESULTS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void
test_verdicts(void **state)
{
    struct mw_psl *psl = test_psl();
    struct mw_dmarc_verdict v;
    const char *reject = "v=DMARC1; p=reject";

    judge(psl, "example.org", reject, false, 0, RESULTS("dkim:pass:example.org"), &v);
    assert_string_equal(v.result, "pass");
    assert_true(v.dkim_aligned);
    assert_false(v.spf_aligned);
    judge(psl, "example.org", reject, false, 0, RESULTS("spf:pass:mail.example.org:mailfrom"), &v);
    assert_string_equal(v.result, "pass");
    assert_true(v.spf_aligned);
    /* A forger's own good signature next to a broken one for the victim. */
    judge(psl, "example.org", reject, false, 0,
          RESULTS("dkim:fail:example.org", "dkim:pass:evil.test", "spf:pass:evil.test:mailfrom"),
          &v);
    assert_string_equal(v.result, "fail");
    assert_int_equal(v.policy, MW_DMARC_P_REJECT);
    assert_int_equal(v.disposition, MW_DMARC_P_REJECT);
    /* Strict alignment wants the same name. */
    judge(psl, "example.org", "v=DMARC1; p=reject; adkim=s; aspf=s", false, 0,
          RESULTS("dkim:pass:sub.example.org", "spf:pass:sub.example.org:mailfrom"), &v);
    assert_string_equal(v.result, "fail");
    /* SPF's HELO verdict counts only for a bounce (MAIL FROM <>); 1000 = bounce in judge(). */
    judge(psl, "example.org", reject, false, 0, RESULTS("spf:pass:example.org:helo"), &v);
    assert_string_equal(v.result, "fail");
    judge(psl, "example.org", reject, false, 1000, RESULTS("spf:pass:example.org:helo"), &v);
    assert_string_equal(v.result, "pass");
    /* Aligned but only temporarily failed: temperror, never a reject. */
    judge(psl, "example.org", reject, false, 0, RESULTS("dkim:temperror:example.org"), &v);
    assert_string_equal(v.result, "temperror");
    judge(psl, "example.org", reject, false, 0,
          RESULTS("dkim:temperror:example.org", "dkim:pass:example.org"), &v);
    assert_string_equal(v.result, "pass");
    /* Subdomain through the organizational domain: sp applies. */
    judge(psl, "a.example.org", "v=DMARC1; p=none; sp=reject", true, 0, RESULTS("x:none:x"), &v);
    assert_string_equal(v.result, "fail");
    assert_true(v.used_sp);
    assert_int_equal(v.policy, MW_DMARC_P_REJECT);
    judge(psl, "a.example.org", "v=DMARC1; p=none; sp=reject", false, 0, RESULTS("x:none:x"), &v);
    assert_false(v.used_sp);
    assert_int_equal(v.policy, MW_DMARC_P_NONE);
    judge(psl, "a.example.org", "v=DMARC1; p=quarantine", true, 0, RESULTS("x:none:x"), &v);
    assert_false(v.used_sp);
    assert_int_equal(v.policy, MW_DMARC_P_QUARANTINE);
    mw_psl_free(&psl);
}

static void
test_pct(void **state)
{
    struct mw_psl *psl = test_psl();
    struct mw_dmarc_verdict v;

    judge(psl, "example.org", "v=DMARC1; p=reject; pct=50", false, 49, RESULTS("x:none:x"), &v);
    assert_int_equal(v.disposition, MW_DMARC_P_REJECT);
    judge(psl, "example.org", "v=DMARC1; p=reject; pct=50", false, 50, RESULTS("x:none:x"), &v);
    assert_int_equal(v.policy, MW_DMARC_P_REJECT);
    assert_int_equal(v.disposition, MW_DMARC_P_QUARANTINE);
    judge(psl, "example.org", "v=DMARC1; p=quarantine; pct=0", false, 0, RESULTS("x:none:x"), &v);
    assert_int_equal(v.disposition, MW_DMARC_P_NONE);
    judge(psl, "example.org", "v=DMARC1; p=reject", false, 99, RESULTS("x:none:x"), &v);
    assert_int_equal(v.disposition, MW_DMARC_P_REJECT);
    judge(psl, "example.org", "v=DMARC1; p=reject; pct=0", false, 0,
          RESULTS("dkim:pass:example.org"), &v);
    assert_string_equal(v.result, "pass");
    assert_int_equal(v.disposition, MW_DMARC_P_NONE);
    mw_psl_free(&psl);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_psl_rules),   cmocka_unit_test(test_psl_file),
        cmocka_unit_test(test_alignment),   cmocka_unit_test(test_record),
        cmocka_unit_test(test_version_tag), cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_pct),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
