/*
 * test-ar.c - unit tests of milter/ar.c: the authserv-id of an
 * Authentication-Results header (RFC 8601 section 2.2).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "ar.h"

static const char *
id_of(const char *value, struct mw_buf *b)
{
    struct mw_err err;

    return mw_ar_authserv_id(value, strlen(value), b, &err) == 0 ? b->data : NULL;
}

static void
test_good(void **state)
{
    struct mw_buf b;

    mw_buf_init(&b);
    assert_string_equal(id_of("mx.example.com; spf=pass", &b), "mx.example.com");
    assert_string_equal(id_of("mx.example.com;spf=pass", &b), "mx.example.com");
    assert_string_equal(id_of(" MX.Example.COM 1; none", &b), "MX.Example.COM");
    assert_string_equal(id_of("\r\n\t(a (nested) \\) comment) mx.example.com(c);", &b),
                        "mx.example.com");
    assert_string_equal(id_of("\"mx.example.com\"; spf=pass", &b), "mx.example.com");
    assert_string_equal(id_of("\"mx\\\".example\" ;", &b), "mx\".example");
    assert_string_equal(id_of("mx.example.com", &b), "mx.example.com");
    assert_string_equal(id_of("m\xc3\xa4il.example; none", &b), "m\xc3\xa4il.example");
    mw_buf_release(&b);
}

static void
test_bad(void **state)
{
    struct mw_buf b;

    mw_buf_init(&b);
    assert_null(id_of("", &b));
    assert_null(id_of("   (only a comment)", &b));
    assert_null(id_of("(unterminated comment mx.example.com;", &b));
    assert_null(id_of("\"unterminated", &b));
    assert_null(id_of("; spf=pass", &b));
    assert_null(id_of("\"\"; spf=pass", &b));
    assert_null(id_of("mx.example.com/x; spf=pass", &b));
    assert_null(id_of("mx.example.com=x", &b));
    mw_buf_release(&b);
}

static void
test_length_is_respected(void **state)
{
    struct mw_buf b;
    struct mw_err err;

    mw_buf_init(&b);
    /* Only the first 6 bytes are the value: no reading past len. */
    assert_int_equal(mw_ar_authserv_id("mx.exa(mple", 6, &b, &err), 0);
    assert_string_equal(b.data, "mx.exa");
    assert_int_equal(mw_ar_authserv_id("(abc", 3, &b, &err), -1);
    mw_buf_release(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_length_is_respected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
