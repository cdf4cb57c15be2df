/*
 * test-pgp-password.c - unit tests of the pure parts of password-encrypted
 * messages (plugins/pgp/password.c: the Encrypt-Password field, the session
 * key packet check) and of the keystore's defaults file parser.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mw/buf.h"
#include "mw/keystore.h"
#include "password.h"

static const char *
from_header(const char *value)
{
    static char out[MW_ERR_MAX + 8];
    struct mw_err err;

    if (mw_pgp_password_from_header(value, strlen(value), out, &err) < 0)
        snprintf(out, sizeof(out), "ERR:%s", err.text);
    return out;
}

static void
test_from_header(void **state)
{
    char long_value[MW_PGP_PASSWORD_MAX + 2];

    (void)state;
    assert_string_equal(from_header(" secret words "), "secret words");
    assert_string_equal(from_header("\r\n\tfolded\r\n value\r\n"), "folded value");
    assert_string_equal(from_header("tab\tinside"), "tab\tinside");
    assert_string_equal(from_header("   "), "ERR:Encrypt-Password: empty value");
    assert_string_equal(from_header("a\x01z"), "ERR:Encrypt-Password: control character in the value");
    assert_string_equal(from_header("a\x7fz"), "ERR:Encrypt-Password: control character in the value");
    memset(long_value, 'x', sizeof(long_value) - 1);
    long_value[sizeof(long_value) - 1] = '\0';
    assert_string_equal(from_header(long_value), "ERR:Encrypt-Password: longer than 256 bytes");
    long_value[MW_PGP_PASSWORD_MAX] = '\0';
    assert_int_equal(strlen(from_header(long_value)), MW_PGP_PASSWORD_MAX);
}

static void
test_header_ok(void **state)
{
    (void)state;
    assert_true(mw_pgp_password_header_ok(1, "alice"));
    assert_false(mw_pgp_password_header_ok(1, ""));
    assert_false(mw_pgp_password_header_ok(1, NULL));
    assert_false(mw_pgp_password_header_ok(0, "alice"));
}

static const char *
packet(const unsigned char *d, size_t len)
{
    static char out[MW_ERR_MAX + 4];
    struct mw_err err;

    if (mw_pgp_password_check_packet(d, len, &err) < 0)
        snprintf(out, sizeof(out), "ERR:%s", err.text);
    else
        snprintf(out, sizeof(out), "ok");
    return out;
}

static void
test_check_packet(void **state)
{
    /* new format tag 3, 13 bytes: v4, AES256, S2K 3, SHA512, salt, count */
    unsigned char good[] = {0xc3, 0x0d, 4, 9, 3, 10, 1, 2, 3, 4, 5, 6, 7, 8, 0xff};
    unsigned char old[] = {0x8c, 0x0d, 4, 9, 3, 10, 1, 2, 3, 4, 5, 6, 7, 8, 0xff};
    unsigned char aes128[] = {0xc3, 0x0d, 4, 7, 3, 10, 1, 2, 3, 4, 5, 6, 7, 8, 0xff};
    unsigned char simple[] = {0xc3, 0x0d, 4, 9, 1, 10, 1, 2, 3, 4, 5, 6, 7, 8, 0xff};
    unsigned char pkesk[] = {0xc1, 0x0d, 3, 9, 3, 10, 1, 2, 3, 4, 5, 6, 7, 8, 0xff};

    (void)state;
    assert_string_equal(packet(good, sizeof(good)), "ok");
    assert_string_equal(packet(old, sizeof(old)), "ok");
    assert_non_null(strstr(packet(aes128, sizeof(aes128)), "cipher algorithm 7, not AES-256"));
    assert_non_null(strstr(packet(simple, sizeof(simple)), "S2K mode 1"));
    assert_non_null(strstr(packet(pkesk, sizeof(pkesk)), "not a symmetric session key"));
    assert_non_null(strstr(packet(good, 10), "truncated"));
    assert_non_null(strstr(packet((const unsigned char *)"hi", 2), "not OpenPGP"));
    assert_non_null(strstr(packet(good, 1), "too short"));
}

static int
collect(const char *address, const char *fpr, void *arg)
{
    mw_buf_printf(arg, "%s=%s;", address, fpr);
    return 0;
}

static const char *
defaults(const char *text, size_t len)
{
    static struct mw_buf b;
    struct mw_err err;

    mw_buf_release(&b);
    mw_buf_init(&b);
    if (mw_keystore_defaults_parse(text, len, collect, &b, &err) < 0) {
        mw_buf_reset(&b);
        mw_buf_printf(&b, "ERR:%s", err.text);
    }
    return b.data;
}

#define F40 "0123456789abcdef0123456789ABCDEF01234567"

static void
test_defaults(void **state)
{
    static const char nul[] = "a@b " F40 "\n\0";
    static const char two[] = "# c\n\n  Alice@Example.COM\t" F40 "  \nb@c " F40;

    (void)state;
    assert_string_equal(defaults("", 0), "");
    assert_string_equal(defaults(two, strlen(two)),
                        "alice@example.com=0123456789ABCDEF0123456789ABCDEF01234567;"
                        "b@c=0123456789ABCDEF0123456789ABCDEF01234567;");
    assert_string_equal(defaults("a@b 0123\n", 9),
                        "ERR:line 1: not a full fingerprint (40 or 64 hex digits)");
    assert_string_equal(defaults("\nnoat " F40 "\n", strlen("\nnoat " F40 "\n")), "ERR:line 2: not a mail address");
    assert_string_equal(defaults("a@b " F40 " x\n", strlen("a@b " F40 " x\n")), "ERR:line 1: more than two fields");
    assert_string_equal(defaults(nul, sizeof(nul) - 1), "ERR:NUL byte in the file");
    defaults("", 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_header),
        cmocka_unit_test(test_header_ok),
        cmocka_unit_test(test_check_packet),
        cmocka_unit_test(test_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
