/*
 * test-msg.c - unit tests of lib/msg.c: the message model plugins see and
 * its host side (reset between messages, recorded changes, entries).
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

#include "mw/alloc.h"
#include "mw/msg-host.h"

static void
test_connection_and_envelope(void **state)
{
    struct mw_msg *m = mw_msg_create(2);

    assert_string_equal(mw_msg_client_addr(m), "");
    assert_null(mw_msg_helo(m));
    assert_string_equal(mw_msg_queue_id(m), "NOQUEUE");
    mw_msg_set_client(m, "client.example", "192.0.2.1");
    mw_msg_set_helo(m, "helo.example");
    mw_msg_set_macro(m, "j", "mx.example", 0);
    mw_msg_set_macro(m, "i", "4ABC", 1);
    mw_msg_set_auth(m, "alice");
    mw_msg_set_direction(m, MW_OUTBOUND);
    assert_false(mw_msg_in_message(m));
    mw_msg_set_mail_from(m, "<alice@example.org>");
    mw_msg_add_rcpt(m, "<bob@example.net>");
    for (int i = 0; i < 20; i++)
        mw_msg_add_rcpt(m, "carol@example.net");
    assert_true(mw_msg_in_message(m));
    assert_string_equal(mw_msg_client_name(m), "client.example");
    assert_string_equal(mw_msg_client_addr(m), "192.0.2.1");
    assert_string_equal(mw_msg_helo(m), "helo.example");
    assert_string_equal(mw_msg_macro(m, "j"), "mx.example");
    assert_string_equal(mw_msg_queue_id(m), "4ABC");
    assert_string_equal(mw_msg_auth_user(m), "alice");
    assert_int_equal(mw_msg_direction(m), MW_OUTBOUND);
    assert_string_equal(mw_msg_mail_from(m), "alice@example.org");
    assert_int_equal(mw_msg_rcpt_count(m), 21);
    assert_string_equal(mw_msg_rcpt(m, 0), "bob@example.net");
    assert_string_equal(mw_msg_rcpt(m, 20), "carol@example.net");
    assert_null(mw_msg_rcpt(m, 21));

    /* Reset forgets the message, keeps the connection. */
    mw_msg_reset(m);
    assert_false(mw_msg_in_message(m));
    assert_string_equal(mw_msg_queue_id(m), "NOQUEUE");
    assert_null(mw_msg_macro(m, "i"));
    assert_null(mw_msg_auth_user(m));
    assert_string_equal(mw_msg_mail_from(m), "");
    assert_int_equal(mw_msg_rcpt_count(m), 0);
    assert_string_equal(mw_msg_macro(m, "j"), "mx.example");
    assert_string_equal(mw_msg_helo(m), "helo.example");
    mw_msg_set_mail_from(m, "<>");
    assert_string_equal(mw_msg_mail_from(m), "");
    mw_msg_free(&m);
    assert_null(m);
}

static void
test_message_macro_hides_connection_macro(void **state)
{
    struct mw_msg *m = mw_msg_create(0);

    mw_msg_set_macro(m, "{tls_version}", "TLSv1.2", 0);
    mw_msg_set_macro(m, "{tls_version}", "TLSv1.3", 0);
    assert_string_equal(mw_msg_macro(m, "{tls_version}"), "TLSv1.3");
    mw_msg_set_macro(m, "{tls_version}", "none", 1);
    assert_string_equal(mw_msg_macro(m, "{tls_version}"), "none");
    mw_msg_reset(m);
    assert_string_equal(mw_msg_macro(m, "{tls_version}"), "TLSv1.3");
    assert_null(mw_msg_macro(m, "{nope}"));
    mw_msg_free(&m);
}

static void
test_changes_entries_reply(void **state)
{
    struct mw_msg *m = mw_msg_create(1);
    const struct mw_msg_change *c;
    const struct mw_msg_item *it;
    const char *rcode, *xcode, *text;
    char big[10000];

    assert_null(mw_msg_changes(m));
    assert_int_equal(mw_msg_reply(m, &rcode, &xcode, &text), -1);
    mw_msg_header_add(m, "X-A", "1");
    mw_msg_header_insert(m, 0, "X-B", "2");
    mw_msg_header_change(m, "Subject", 2, "new");
    mw_msg_header_delete(m, "X-C", 1);
    c = mw_msg_changes(m);
    assert_int_equal(c->kind, MW_MSG_HDR_ADD);
    assert_string_equal(c->name, "X-A");
    assert_string_equal(c->value, "1");
    c = c->next;
    assert_int_equal(c->kind, MW_MSG_HDR_INSERT);
    assert_int_equal(c->index, 0);
    c = c->next;
    assert_int_equal(c->kind, MW_MSG_HDR_CHANGE);
    assert_int_equal(c->index, 2);
    assert_string_equal(c->value, "new");
    c = c->next;
    assert_int_equal(c->kind, MW_MSG_HDR_DELETE);
    assert_null(c->value);
    assert_null(c->next);

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    mw_msg_ar_add(m, "spf=%s smtp.mailfrom=%s", "pass", "a@b.example");
    mw_msg_ar_add(m, "x-big=%s", big);
    it = mw_msg_ar_entries(m);
    assert_string_equal(it->text, "spf=pass smtp.mailfrom=a@b.example");
    assert_int_equal(strlen(it->next->text), 6 + sizeof(big) - 1);
    assert_null(it->next->next);
    mw_msg_log_add(m, "spf=%s", "pass");
    assert_string_equal(mw_msg_log_items(m)->text, "spf=pass");
    mw_msg_set_reply(m, "550", "5.7.1", "no %s", "thanks");
    assert_int_equal(mw_msg_reply(m, &rcode, &xcode, &text), 0);
    assert_string_equal(rcode, "550");
    assert_string_equal(xcode, "5.7.1");
    assert_string_equal(text, "no thanks");
    assert_string_equal(mw_msg_strdup(m, "scratch"), "scratch");

    mw_msg_reset(m);
    assert_null(mw_msg_changes(m));
    assert_null(mw_msg_ar_entries(m));
    assert_null(mw_msg_log_items(m));
    assert_int_equal(mw_msg_reply(m, &rcode, &xcode, &text), -1);
    mw_msg_free(&m);
}

static void
test_auth_results_and_quarantine(void **state)
{
    struct mw_msg *m = mw_msg_create(1);
    struct mw_auth_result spf = {"spf", "pass", "example.org", "mailfrom", NULL, NULL};
    struct mw_auth_result dkim = {"dkim", "fail", "example.org", NULL, "sel", "rsa-sha256"};
    char sel[8] = "sel";

    mw_msg_set_mail_from(m, "<a@example.org>");
    assert_int_equal(mw_msg_auth_count(m), 0);
    assert_null(mw_msg_auth(m, 0));
    mw_msg_auth_add(m, &spf);
    dkim.selector = sel;
    mw_msg_auth_add(m, &dkim);
    sel[0] = 'X'; /* the message keeps its own copy */
    assert_int_equal(mw_msg_auth_count(m), 2);
    assert_string_equal(mw_msg_auth(m, 0)->method, "spf");
    assert_string_equal(mw_msg_auth(m, 0)->scope, "mailfrom");
    assert_null(mw_msg_auth(m, 0)->selector);
    assert_string_equal(mw_msg_auth(m, 1)->selector, "sel");
    assert_string_equal(mw_msg_auth(m, 1)->algorithm, "rsa-sha256");
    assert_null(mw_msg_auth(m, 2));
    assert_null(mw_msg_quarantine_reason(m));
    mw_msg_quarantine(m, "dmarc p=%s", "quarantine");
    assert_string_equal(mw_msg_quarantine_reason(m), "dmarc p=quarantine");
    /* The next message starts clean. */
    mw_msg_reset(m);
    assert_int_equal(mw_msg_auth_count(m), 0);
    assert_null(mw_msg_quarantine_reason(m));
    mw_msg_free(&m);
}

static void
test_plugin_slots(void **state)
{
    struct mw_msg *m = mw_msg_create(2);
    int a, b;

    mw_msg_set_plugin(m, 0);
    assert_null(*mw_msg_data(m));
    *mw_msg_data(m) = &a;
    mw_msg_set_plugin(m, 1);
    assert_null(*mw_msg_data(m));
    *mw_msg_data(m) = &b;
    mw_msg_set_plugin(m, 0);
    assert_ptr_equal(*mw_msg_data(m), &a);
    /* A slot left set at reset is forgotten (with a warning), never freed by us. */
    mw_msg_reset(m);
    assert_null(*mw_msg_data(m));
    mw_msg_free(&m);
}

/* Body replacement (the last one wins, readable by later plugins) and recipient changes. */
static void
test_body_and_recipients(void **state)
{
    struct mw_msg *m = mw_msg_create(1);
    const struct mw_msg_change *c;
    const struct mw_spool *b;
    struct mw_spool s;
    char dir[] = "/tmp/test-msg.XXXXXX", got[16];

    (void)state;
    mw_msg_set_mail_from(m, "<a@example.org>");
    assert_null(mw_msg_body_replacement(m));
    mw_msg_body_replace(m, "first\r\n", 7);
    mw_msg_body_replace(m, "second\r\n\0x", 10);
    b = mw_msg_body_replacement(m);
    assert_non_null(b);
    assert_int_equal(mw_spool_len(b), 10);
    assert_int_equal(mw_spool_read(b, 0, got, sizeof(got)), 10);
    assert_memory_equal(got, "second\r\n\0x", 10);
    /* A spool that moved to its temp file: the model takes the file, s is left empty. */
    assert_non_null(mkdtemp(dir));
    mw_spool_init(&s, dir, 4);
    assert_int_equal(mw_spool_append(&s, "spilled body\r\n", 14), 0);
    assert_true(mw_spool_fd(&s) >= 0);
    mw_msg_body_replace_spool(m, &s);
    assert_int_equal(mw_spool_len(&s), 0);
    assert_int_equal(mw_spool_fd(&s), -1);
    mw_spool_release(&s);
    b = mw_msg_body_replacement(m);
    assert_int_equal(mw_spool_len(b), 14);
    assert_int_equal(mw_spool_read(b, 8, got, sizeof(got)), 6);
    assert_memory_equal(got, "body\r\n", 6);
    assert_int_equal(rmdir(dir), 0); /* the temp file never had a name */
    mw_msg_body_replace(m, "", 0);
    assert_non_null(mw_msg_body_replacement(m));
    assert_int_equal(mw_spool_len(mw_msg_body_replacement(m)), 0);
    mw_msg_rcpt_delete(m, "b@example.net");
    mw_msg_rcpt_add(m, "c@example.net");
    c = mw_msg_changes(m);
    assert_int_equal(c->kind, MW_MSG_RCPT_DELETE);
    assert_string_equal(c->name, "b@example.net");
    assert_int_equal(c->next->kind, MW_MSG_RCPT_ADD);
    assert_string_equal(c->next->name, "c@example.net");
    assert_null(c->next->next);
    mw_msg_reset(m);
    assert_null(mw_msg_body_replacement(m));
    assert_null(mw_msg_changes(m));
    mw_msg_free(&m);
}

/* Assert that the final header list starts with want[] ("Name: value" each) and has total. */
static void
assert_final(struct mw_msg *m, const char *const *want, size_t n, size_t total)
{
    const char *name, *value;
    char got[256];

    for (size_t i = 0; i < n; i++) {
        assert_int_equal(mw_msg_final_header(m, i, &name, &value), 0);
        snprintf(got, sizeof(got), "%s: %s", name, value);
        assert_string_equal(got, want[i]);
    }
    assert_int_equal(mw_msg_final_header_count(m), total);
    assert_int_equal(mw_msg_final_header(m, total, &name, &value), -1);
}

static void
test_final_headers(void **state)
{
    struct mw_msg *m = mw_msg_create(1);
    static const char *const received[] = {
        "Received: r1", "From: f", "Subject: s1", "To: t", "subject: s2", "Content-Type: ct",
    };
    static const char *const final[] = {
        "DKIM-Signature: d1", "X-One: x",          "Received: r1", "From: f",   "To: t",
        "Subject: new2",      "MIME-Version: 1.0", "X-Missing: m", "X-Last: l",
    };
    static const char *const second[] = {"Received: rr", "X-Two: 2", "Received: r2", "Date: d"};

    (void)state;
    mw_msg_set_mail_from(m, "<a@example.org>");
    assert_int_equal(mw_msg_final_header_count(m), 0);
    mw_msg_add_header(m, "Received", "r1");
    mw_msg_add_header(m, "From", "f");
    mw_msg_add_header(m, "Subject", "s1");
    mw_msg_add_header(m, "To", "t");
    mw_msg_add_header(m, "subject", "s2");
    mw_msg_add_header(m, "Content-Type", "ct");
    assert_final(m, received, 6, 6);
    mw_msg_header_insert(m, 0, "DKIM-Signature", "d1"); /* top */
    mw_msg_header_change(m, "Subject", 2, "new2");      /* the 2nd, any case */
    mw_msg_header_delete(m, "Content-Type", 1);
    mw_msg_header_add(m, "MIME-Version", "1.0");
    mw_msg_header_insert(m, 1, "X-One", "x");     /* above Postfix's Received */
    mw_msg_rcpt_add(m, "c@example.net");          /* not a header */
    mw_msg_header_change(m, "X-Missing", 1, "m"); /* appended */
    mw_msg_header_delete(m, "X-Absent", 3);       /* nothing */
    mw_msg_header_change(m, "Subject", 1, "");    /* "" deletes */
    mw_msg_header_insert(m, 99, "X-Last", "l");   /* past the end: appended */
    assert_final(m, final, 9, 9);
    /* A later change is seen at once. */
    mw_msg_header_delete(m, "X-Last", 1);
    assert_final(m, final, 8, 8);
    mw_msg_reset(m);
    assert_int_equal(mw_msg_final_header_count(m), 0);

    /* Without an insert at the top, Postfix's own Received is skipped by changes. */
    mw_msg_set_mail_from(m, "<a@example.org>");
    mw_msg_add_header(m, "Received", "r1");
    mw_msg_add_header(m, "Received", "r2");
    for (int i = 0; i < 40; i++) /* beyond the first vector */
        mw_msg_add_header(m, "Date", "d");
    mw_msg_header_change(m, "Received", 1, "rr");
    mw_msg_header_insert(m, 2, "X-Two", "2"); /* after one field the milter saw */
    assert_final(m, second, 4, 43);
    mw_msg_reset(m);

    /* A header section over 4 MiB is not kept: nothing rather than a wrong list. */
    {
        char *big = mw_malloc(1024 * 1024);
        memset(big, 'x', 1024 * 1024 - 1);
        big[1024 * 1024 - 1] = '\0';
        mw_msg_set_mail_from(m, "<a@example.org>");
        for (int i = 0; i < 3; i++)
            mw_msg_add_header(m, "X-Big", big);
        assert_int_equal(mw_msg_final_header_count(m), 3);
        mw_msg_add_header(m, "X-Big", big);
        mw_msg_add_header(m, "To", "t");
        assert_int_equal(mw_msg_final_header_count(m), 0);
        mw_free(&big);
    }
    mw_msg_free(&m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connection_and_envelope),
        cmocka_unit_test(test_message_macro_hides_connection_macro),
        cmocka_unit_test(test_changes_entries_reply),
        cmocka_unit_test(test_plugin_slots),
        cmocka_unit_test(test_auth_results_and_quarantine),
        cmocka_unit_test(test_body_and_recipients),
        cmocka_unit_test(test_final_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
