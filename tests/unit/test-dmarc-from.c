/*
 * test-dmarc-from.c - unit tests of plugins/dmarc/from.c: the author
 * domains of a From header value as senders write it (and forge it).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dmarc/from.h"

/* "DOMAIN" for one domain, "DOMAIN OTHER" for several, "ERR:reason", "N=0" for no mailbox. */
static const char *
parse(const char *value)
{
    static char out[2 * MW_DNS_NAME_MAX + 64];
    struct mw_dmarc_from f;
    struct mw_err err;

    if (mw_dmarc_from_parse(value, strlen(value), &f, &err) < 0) {
        snprintf(out, sizeof(out), "ERR:%s", err.text);
        return out;
    }
    if (f.mailboxes == 0)
        return "N=0";
    snprintf(out, sizeof(out), "%s%s%s", f.domain, f.other[0] ? " " : "", f.other);
    return out;
}

static size_t
count(const char *value)
{
    struct mw_dmarc_from f;
    struct mw_err err;

    assert_int_equal(mw_dmarc_from_parse(value, strlen(value), &f, &err), 0);
    return f.mailboxes;
}

static void
test_forms(void **state)
{
    assert_string_equal(parse("alice@example.org"), "example.org");
    assert_string_equal(parse("Alice <alice@Example.ORG>"), "example.org");
    assert_string_equal(parse("\"Alice Smith\" <alice@example.org>"), "example.org");
    assert_string_equal(parse("\"a@evil.test\" <alice@example.org>"), "example.org");
    assert_string_equal(parse("\"Smith, Alice\" <alice@example.org>"), "example.org");
    assert_string_equal(parse("alice@example.org (Alice <x@evil.test>)"), "example.org");
    assert_string_equal(parse("(c1 (nested) \\) c) Alice (c2) <alice (c3) @ (c4) example.org>"),
                        "example.org");
    assert_string_equal(parse("=?utf-8?q?Al=C3=AFce?= <alice@example.org>"), "example.org");
    assert_string_equal(parse("J\xc3\xbcrgen <j@example.org>"), "example.org");
    assert_string_equal(parse("Alice\n <alice@example.org>"), "example.org");
    assert_string_equal(parse("Alice\r\n\t<alice@example.org>"), "example.org");
    assert_string_equal(parse("Dr. Alice A. Smith <alice@example.org>"), "example.org");
    assert_string_equal(parse("\"al ice\"@example.org"), "example.org");
    assert_string_equal(parse("first.last@mail.example.org"), "mail.example.org");
    assert_string_equal(parse("a.\"b c\".d@example.org"), "example.org");
    assert_string_equal(parse("<@relay.example,@r2.example:alice@example.org>"), "example.org");
    assert_string_equal(parse("<alice@example.org>"), "example.org");
    assert_string_equal(parse("a_b@sub_domain.example.org"), "sub_domain.example.org");
}

static void
test_lists_and_groups(void **state)
{
    assert_string_equal(parse("a@example.org, b@example.org"), "example.org");
    assert_int_equal(count("a@example.org, b@example.org"), 2);
    assert_string_equal(parse("a@example.org, B <b@evil.test>"), "example.org evil.test");
    assert_string_equal(parse("a@example.org, b@EXAMPLE.org, c@evil.test, d@x.test"),
                        "example.org evil.test");
    assert_string_equal(parse(", , a@example.org ,"), "example.org");
    assert_string_equal(parse("Team: a@example.org, b@evil.test;"), "example.org evil.test");
    assert_string_equal(parse("Team: a@example.org;, c@example.org"), "example.org");
    assert_int_equal(count("Team: a@example.org;, c@example.org"), 2);
    assert_string_equal(parse("undisclosed-recipients:;"), "N=0");
    assert_string_equal(parse(""), "N=0");
    assert_string_equal(parse("  (just a comment) "), "N=0");
}

static void
test_refused(void **state)
{
    assert_string_equal(parse("Alice alice@example.org"), "ERR:From header: malformed local part");
    assert_string_equal(parse("alice@example.org <bob@evil.test>"),
                        "ERR:From header: text after an address");
    assert_string_equal(parse("<alice@example.org>@evil.test"),
                        "ERR:From header: text after an address");
    assert_string_equal(parse("alice@[192.0.2.1]"),
                        "ERR:From header: address literal instead of a domain");
    assert_string_equal(parse("alice"), "ERR:From header: no address");
    assert_string_equal(parse("alice@"), "ERR:From header: missing domain");
    assert_string_equal(parse("@example.org"), "ERR:From header: malformed local part");
    assert_string_equal(parse("<>"), "ERR:From header: empty address");
    assert_string_equal(parse("<alice@example.org"), "ERR:From header: missing >");
    assert_string_equal(parse("Alice <alice>"), "ERR:From header: address without @");
    assert_string_equal(parse("\"Alice <alice@example.org>"),
                        "ERR:From header: unterminated quoted string");
    assert_string_equal(parse("(Alice <alice@example.org>"),
                        "ERR:From header: unterminated comment");
    assert_string_equal(parse("Alice) <alice@example.org>"),
                        "ERR:From header: unbalanced parenthesis");
    assert_string_equal(parse("alice@example..org"), "ERR:From header: empty label in domain");
    assert_string_equal(parse("alice@.example.org"), "ERR:From header: empty label in domain");
    assert_string_equal(parse("alice@example.org."), "ERR:From header: empty label in domain");
    assert_string_equal(parse("alice@ex!ample.org"),
                        "ERR:From header: invalid character in domain");
    assert_string_equal(parse("alice@b\xc3\xbcro.example"), "ERR:From header: non-ASCII domain");
    assert_string_equal(parse("A: B: b@example.org;;"), "ERR:From header: group inside a group");
    assert_string_equal(parse("A: a@example.org"), "ERR:From header: unterminated group");
    assert_string_equal(parse(": a@example.org;"), "ERR:From header: group without a name");
    assert_string_equal(parse("a@example.org; b@evil.test"),
                        "ERR:From header: text after an address");
    assert_string_equal(parse("Alice <alice@example.org> extra"),
                        "ERR:From header: text after an address");
    assert_string_equal(parse("a\x01@example.org"), "ERR:From header: invalid character");
    assert_string_equal(parse("<@relay.example alice@example.org>"),
                        "ERR:From header: malformed route");
    assert_string_equal(parse("alice@example.org]"), "ERR:From header: unbalanced bracket");
}

static void
test_limits(void **state)
{
    char label[70], name[300], value[400];
    struct mw_dmarc_from f;
    struct mw_err err;

    memset(label, 'a', 64);
    label[64] = '\0';
    snprintf(value, sizeof(value), "x@%s.org", label);
    assert_string_equal(parse(value), "ERR:From header: domain label too long");
    label[63] = '\0';
    snprintf(value, sizeof(value), "x@%s.org", label);
    assert_int_equal(count(value), 1);
    /* 253 bytes is the longest name; 254 is refused. */
    snprintf(name, sizeof(name), "%s.%s.%s.%s", label, label, label, label);
    name[253] = '\0';
    name[252] = 'x';
    snprintf(value, sizeof(value), "x@%s", name);
    assert_int_equal(count(value), 1);
    snprintf(value, sizeof(value), "x@%sy", name);
    assert_string_equal(parse(value), "ERR:From header: domain too long");
    /* An embedded NUL ends nothing silently: the length given is what is parsed. */
    assert_int_equal(mw_dmarc_from_parse("a@example.org\0, b@evil.test", 28, &f, &err), -1);
    assert_int_equal(mw_dmarc_from_parse("a@example.org\0, b@evil.test", 13, &f, &err), 0);
    assert_string_equal(f.domain, "example.org");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_lists_and_groups),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_limits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
