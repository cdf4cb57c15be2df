/*
 * test-tlsrpt-mail.c - unit tests of plugins/tlsrpt/mail.c: the report part
 * of a report mail found with GMime (multipart/report with a base64
 * application/tlsrpt+gzip part, a single-part application/tlsrpt+json
 * message, a nested multipart, and mails without a report part).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mail.h"
#include "mw/tlsrpt.h"

/* "{}" gzipped (mtime 0), base64. */
#define GZ_B64 "H4sIAAAAAAAAA6uuBQBDv6ajAgAAAA=="

static const char multipart[] =
    "From: tlsrpt-noreply@company-x.example\r\n"
    "To: tlsrpt@valid.test\r\n"
    "Subject: Report Domain: valid.test\r\n"
    "TLS-Report-Domain: valid.test\r\n"
    "TLS-Report-Submitter: company-x.example\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"b1\"\r\n"
    "\r\n"
    "--b1\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "A report.\r\n"
    "--b1\r\n"
    "Content-Type: application/tlsrpt+gzip\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "Content-Disposition: attachment; filename=\"r.json.gz\"\r\n"
    "\r\n" GZ_B64 "\r\n"
    "--b1--\r\n";

static const char single[] = "From: a@b.example\r\n"
                             "To: tlsrpt@valid.test\r\n"
                             "MIME-Version: 1.0\r\n"
                             "Content-Type: Application/TLSRPT+JSON\r\n"
                             "\r\n"
                             "{\"a\":1}\r\n";

static const char nested[] = "From: a@b.example\r\n"
                             "MIME-Version: 1.0\r\n"
                             "Content-Type: multipart/mixed; boundary=\"o\"\r\n"
                             "\r\n"
                             "--o\r\n"
                             "Content-Type: multipart/alternative; boundary=\"i\"\r\n"
                             "\r\n"
                             "--i\r\n"
                             "Content-Type: text/plain\r\n"
                             "\r\n"
                             "x\r\n"
                             "--i\r\n"
                             "Content-Type: application/tlsrpt+json\r\n"
                             "\r\n"
                             "{\"b\":2}\r\n"
                             "--i--\r\n"
                             "--o--\r\n";

static const char none[] = "From: a@b.example\r\n"
                           "MIME-Version: 1.0\r\n"
                           "Content-Type: multipart/mixed; boundary=\"o\"\r\n"
                           "\r\n"
                           "--o\r\n"
                           "Content-Type: application/json\r\n"
                           "\r\n"
                           "{}\r\n"
                           "--o--\r\n";

static void
test_multipart_gzip(void **state)
{
    struct mw_tlsrpt_mail mail;
    struct mw_err err;
    static const unsigned char gz_magic[] = {0x1f, 0x8b};

    (void)state;
    assert_int_equal(mw_tlsrpt_mail_report(multipart, sizeof(multipart) - 1, &mail, &err), 0);
    assert_int_equal(mail.gzipped, MW_TLSRPT_GZIP);
    assert_int_equal(mail.report.len, 22);
    assert_memory_equal(mail.report.data, gz_magic, 2);
    assert_string_equal(mail.domain, "valid.test");
    assert_string_equal(mail.submitter, "company-x.example");
    mw_tlsrpt_mail_release(&mail);
}

static void
test_single_and_nested(void **state)
{
    struct mw_tlsrpt_mail mail;
    struct mw_err err;

    (void)state;
    assert_int_equal(mw_tlsrpt_mail_report(single, sizeof(single) - 1, &mail, &err), 0);
    assert_int_equal(mail.gzipped, MW_TLSRPT_JSON);
    assert_string_equal(mail.report.data, "{\"a\":1}\r\n");
    assert_null(mail.domain);
    mw_tlsrpt_mail_release(&mail);
    assert_int_equal(mw_tlsrpt_mail_report(nested, sizeof(nested) - 1, &mail, &err), 0);
    assert_string_equal(mail.report.data, "{\"b\":2}");
    mw_tlsrpt_mail_release(&mail);
}

static void
test_no_report(void **state)
{
    struct mw_tlsrpt_mail mail;
    struct mw_err err;

    (void)state;
    assert_int_equal(mw_tlsrpt_mail_report(none, sizeof(none) - 1, &mail, &err), -1);
    assert_string_equal(err.text, "no application/tlsrpt+gzip or application/tlsrpt+json part");
    mw_tlsrpt_mail_release(&mail);
    assert_int_equal(mw_tlsrpt_mail_report("", 0, &mail, &err), -1);
    mw_tlsrpt_mail_release(&mail);
    assert_int_equal(mw_tlsrpt_mail_report("garbage", 7, &mail, &err), -1);
    mw_tlsrpt_mail_release(&mail);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multipart_gzip),
        cmocka_unit_test(test_single_and_nested),
        cmocka_unit_test(test_no_report),
    };
    int rc;

    mw_tlsrpt_mail_init();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    mw_tlsrpt_mail_fini();
    return rc;
}
