/*
 * test-ctl-dkim-record.c - unit tests of the DKIM key record parser of
 * "mailwardctl check --selector" (ctl/dkim-record.c).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../ctl/dkim-record.h"

/* "k|p|t" for a record that parses ("-" for a missing p), "ERR:why" otherwise. */
static const char *
parse(const char *text)
{
    static char out[CK_DKIM_REC_MAX + 128];
    struct ck_dkim_rec r;
    struct mw_err why;

    if (ck_dkim_rec_parse(text, strlen(text), &r, &why) < 0) {
        snprintf(out, sizeof(out), "ERR:%s", why.text);
        return out;
    }
    snprintf(out, sizeof(out), "%s|%s|%d", r.k, r.p ? r.p : "-", r.testing);
    ck_dkim_rec_release(&r);
    return out;
}

static void
test_good(void **state)
{
    (void)state;
    assert_string_equal(parse("v=DKIM1; k=rsa; p=MIIB+/=="), "rsa|MIIB+/==|0");
    assert_string_equal(parse("v=DKIM1; k=ed25519; p=abcd;"), "ed25519|abcd|0");
    assert_string_equal(parse("p=abcd"), "rsa|abcd|0");
    assert_string_equal(parse(" k = rsa ;\tp = ab cd\r\n ef ; h=sha256;"), "rsa|abcdef|0");
    assert_string_equal(parse("v=DKIM1; p="), "rsa||0");
    assert_string_equal(parse("v=DKIM1; t=s:y; p=ab"), "rsa|ab|1");
    assert_string_equal(parse("t=yes; p=ab"), "rsa|ab|0");
    assert_string_equal(parse("k=rsa"), "rsa|-|0");
    assert_string_equal(parse("x_1=whatever=odd; p=ab"), "rsa|ab|0");
}

static void
test_bad(void **state)
{
    (void)state;
    assert_string_equal(parse("k=rsa; v=DKIM1; p=ab"), "ERR:v= must be the first tag and DKIM1");
    assert_string_equal(parse("v=DKIM2; p=ab"), "ERR:v= must be the first tag and DKIM1");
    assert_string_equal(parse("p=ab; p=cd"), "ERR:tag p appears twice");
    assert_string_equal(parse("p=ab!"), "ERR:p= holds a character that is not base64");
    assert_string_equal(parse("k=; p=ab"), "ERR:bad k= value");
    assert_string_equal(parse("garbage"), "ERR:not a tag-list (\"name=value; ...\")");
    assert_string_equal(parse("1k=rsa"), "ERR:not a tag-list (\"name=value; ...\")");
    assert_string_equal(parse("p=ab;;k=rsa"), "ERR:not a tag-list (\"name=value; ...\")");
    assert_string_equal(parse("=ab"), "ERR:not a tag-list (\"name=value; ...\")");
}

static void
test_nul(void **state)
{
    struct ck_dkim_rec r;
    struct mw_err why;

    (void)state;
    assert_int_equal(ck_dkim_rec_parse("p=a\0b", 5, &r, &why), -1);
    assert_string_equal(why.text, "record too long or holds a NUL byte");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_nul),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
