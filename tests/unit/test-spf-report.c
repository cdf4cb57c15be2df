/*
 * test-spf-report.c - unit tests of plugins/spf/spf-report.c: the
 * Received-SPF header (RFC 7208 §9.1), RFC 8601 property values, reply
 * text and the domain check (§4.3), with hostile input.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "mw/alloc.h"
#include "spf/spf-report.h"

static char *
pvalue(const char *s, struct mw_buf *b)
{
    mw_buf_reset(b);
    mw_spf_pvalue(b, s);
    return b->data;
}

static void
test_pvalue(void **state)
{
    struct mw_buf b;

    mw_buf_init(&b);
    assert_string_equal(pvalue("alice@example.org", &b), "alice@example.org");
    assert_string_equal(pvalue("a.b+tag@mail.example.org", &b), "a.b+tag@mail.example.org");
    assert_string_equal(pvalue("helo.example.org", &b), "helo.example.org");
    /* What would not parse bare is quoted, quotes and backslashes escaped. */
    assert_string_equal(pvalue("a;b@example.org", &b), "\"a;b@example.org\"");
    assert_string_equal(pvalue("\"a b\"@example.org", &b), "\"\\\"a b\\\"@example.org\"");
    assert_string_equal(pvalue("a\\b@example.org", &b), "\"a\\\\b@example.org\"");
    assert_string_equal(pvalue("[192.0.2.1]", &b), "\"[192.0.2.1]\"");
    assert_string_equal(pvalue("a..b@example.org", &b), "\"a..b@example.org\"");
    assert_string_equal(pvalue("alice@exa_mple.org", &b), "\"alice@exa_mple.org\"");
    assert_string_equal(pvalue("", &b), "\"\"");
    /* Control characters never reach the header. */
    assert_string_equal(pvalue("a\r\nX-Evil: 1@example.org", &b), "\"a??X-Evil: 1@example.org\"");
    mw_buf_release(&b);
}

static void
test_long_value_is_cut_visibly(void **state)
{
    struct mw_buf b;
    char big[600];

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    mw_buf_init(&b);
    mw_spf_pvalue(&b, big);
    assert_int_equal(b.len, 1 + MW_SPF_SHOW_MAX + 3 + 1);
    assert_memory_equal(b.data + b.len - 4, "...\"", 4);
    /* A cut never splits a UTF-8 sequence. */
    memset(big, 'a', sizeof(big) - 1);
    memcpy(big + MW_SPF_SHOW_MAX - 1, "\xc3\xa4", 2);
    mw_buf_reset(&b);
    mw_spf_pvalue(&b, big);
    assert_int_equal(b.len, 1 + MW_SPF_SHOW_MAX - 1 + 3 + 1);
    mw_buf_release(&b);
}

static void
test_text(void **state)
{
    struct mw_buf b;

    mw_buf_init(&b);
    mw_spf_text(&b, "ok \x01\x7f\xc3\xa4 %s\r\n", 100);
    assert_string_equal(b.data, "ok ???? %s??");
    mw_buf_reset(&b);
    mw_spf_text(&b, "0123456789", 4);
    assert_string_equal(b.data, "0123...");
    mw_buf_release(&b);
}

static void
test_domain_ok(void **state)
{
    assert_true(mw_spf_domain_ok("example.org"));
    assert_true(mw_spf_domain_ok("example.org."));
    assert_true(mw_spf_domain_ok("_spf.mail-1.example.org"));
    assert_true(mw_spf_domain_ok("1.2.3.example"));
    assert_false(mw_spf_domain_ok(""));
    assert_false(mw_spf_domain_ok("."));
    assert_false(mw_spf_domain_ok("localhost"));
    assert_false(mw_spf_domain_ok("192.0.2.1"));
    assert_false(mw_spf_domain_ok("[192.0.2.1]"));
    assert_false(mw_spf_domain_ok("a..example"));
    assert_false(mw_spf_domain_ok(".example.org"));
    assert_false(mw_spf_domain_ok("ex ample.org"));
    assert_false(mw_spf_domain_ok("b\xc3\xa4r.example"));
    assert_true(mw_spf_domain_ok(
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example"));
    assert_false(mw_spf_domain_ok(
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example"));
}

static void
test_received(void **state)
{
    struct mw_spf_report r = {
        .result = MW_SPF_FAIL,
        .identity = "mailfrom",
        .client_ip = "2001:db8::1",
        .envelope_from = "x(y)@example.org",
        .sender = "x(y)@example.org",
        .helo = "mx\"1",
        .receiver = "mx.example.com",
        .mechanism = "-all",
    };
    char *v = mw_spf_received(&r), *flat = mw_strdup(v), *o = flat;

    /* Folded before blanks only: removing the line breaks gives the flat text. */
    for (const char *p = v; *p; p++) {
        if (*p == '\n')
            assert_int_equal(p[1], ' ');
        else
            *o++ = *p;
    }
    *o = '\0';
    assert_string_equal(flat,
                        "fail (mx.example.com: domain of x\\(y\\)@example.org does not "
                        "designate 2001:db8::1 as permitted sender) client-ip=\"2001:db8::1\"; "
                        "envelope-from=\"x(y)@example.org\"; helo=\"mx\\\"1\"; "
                        "mechanism=-all; receiver=mx.example.com; identity=mailfrom;");
    for (const char *line = v, *nl; line != NULL; line = nl ? nl + 1 : NULL) {
        size_t len;

        nl = strchr(line, '\n');
        len = nl ? (size_t)(nl - line) : strlen(line);
        if (line == v)
            len += strlen("Received-SPF: ");
        assert_true(len <= 78);
    }
    mw_free(&v);
    mw_free(&flat);
}

static void
test_received_null_sender_problem(void **state)
{
    struct mw_spf_report r = {
        .result = MW_SPF_PERMERROR,
        .identity = "mailfrom",
        .client_ip = "192.0.2.1",
        .envelope_from = "",
        .sender = "postmaster@helo.example",
        .helo = NULL,
        .receiver = "mx.example.com",
        .problem = "bad \"term\"\n",
    };
    char *v = mw_spf_received(&r);

    assert_non_null(strstr(v, "envelope-from=\"<>\";"));
    assert_non_null(strstr(v, "problem=\"bad \\\"term\\\"?\";"));
    assert_null(strstr(v, "helo="));
    assert_null(strstr(v, "mechanism="));
    mw_free(&v);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pvalue),   cmocka_unit_test(test_long_value_is_cut_visibly),
        cmocka_unit_test(test_text),     cmocka_unit_test(test_domain_ok),
        cmocka_unit_test(test_received), cmocka_unit_test(test_received_null_sender_problem),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
