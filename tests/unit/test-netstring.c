/*
 * test-netstring.c - unit tests of the netstring codec (lib/netstring.c)
 * as mailward-policyd's socketmap server uses it.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "mw/buf.h"
#include "mw/netstring.h"

static enum mw_netstring_rc
parse(const char *s, size_t len, size_t max, const char **data, size_t *dlen, size_t *used,
      struct mw_err *err)
{
    return mw_netstring_parse(s, len, max, data, dlen, used, err);
}

static void
test_complete_and_pipelined(void **state)
{
    const char in[] = "20:mailward example.net,13:mailward .net,";
    const char *data;
    size_t dlen, used;
    struct mw_err err;

    assert_int_equal(parse(in, sizeof(in) - 1, 100, &data, &dlen, &used, &err), MW_NETSTRING_OK);
    assert_int_equal(dlen, 20);
    assert_memory_equal(data, "mailward example.net", 20);
    assert_int_equal(used, 24);
    assert_int_equal(parse(in + used, sizeof(in) - 1 - used, 100, &data, &dlen, &used, &err),
                     MW_NETSTRING_OK);
    assert_memory_equal(data, "mailward .net", 13);
    assert_int_equal(parse("0:,", 3, 100, &data, &dlen, &used, &err), MW_NETSTRING_OK);
    assert_int_equal(dlen, 0);
    assert_int_equal(used, 3);
}

static void
test_partial(void **state)
{
    const char in[] = "11:hello world,";
    const char *data;
    size_t dlen, used;
    struct mw_err err;

    /* Every proper prefix asks for more, never errs. */
    for (size_t n = 0; n < sizeof(in) - 1; n++)
        assert_int_equal(parse(in, n, 100, &data, &dlen, &used, &err), MW_NETSTRING_MORE);
    assert_int_equal(parse(in, sizeof(in) - 1, 100, &data, &dlen, &used, &err), MW_NETSTRING_OK);
}

static void
test_errors(void **state)
{
    const char *data;
    size_t dlen, used;
    struct mw_err err;

    /* leading zero */
    assert_int_equal(parse("01:x,", 5, 100, &data, &dlen, &used, &err), MW_NETSTRING_ERROR);
    assert_non_null(strstr(err.text, "malformed"));
    /* too long: known from the digits alone, before any data */
    assert_int_equal(parse("101", 3, 100, &data, &dlen, &used, &err), MW_NETSTRING_ERROR);
    assert_non_null(strstr(err.text, "longer than 100"));
    assert_int_equal(parse("99999999999", 11, (size_t)-1, &data, &dlen, &used, &err),
                     MW_NETSTRING_ERROR);
    /* missing comma */
    assert_int_equal(parse("3:abcd", 6, 100, &data, &dlen, &used, &err), MW_NETSTRING_ERROR);
    assert_non_null(strstr(err.text, "comma"));
    /* no length, no colon */
    assert_int_equal(parse(":abc,", 5, 100, &data, &dlen, &used, &err), MW_NETSTRING_ERROR);
    assert_int_equal(parse("3x", 2, 100, &data, &dlen, &used, &err), MW_NETSTRING_ERROR);
    assert_int_equal(parse("GET / HTTP/1.0\r\n", 16, 100, &data, &dlen, &used, &err),
                     MW_NETSTRING_ERROR);
}

static void
test_append(void **state)
{
    struct mw_buf b;

    mw_buf_init(&b);
    mw_netstring_append(&b, "OK encrypt", 10);
    mw_netstring_append(&b, "NOTFOUND ", 9);
    mw_netstring_append(&b, "", 0);
    assert_string_equal(b.data, "10:OK encrypt,9:NOTFOUND ,0:,");
    mw_buf_release(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete_and_pipelined),
        cmocka_unit_test(test_partial),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_append),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
