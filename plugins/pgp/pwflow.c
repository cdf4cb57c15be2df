/*
 * pwflow.c - the pgp plugin's password mode: what the milter does with the
 * Encrypt-Password header field (password.h says what it is for).
 *
 * DESCRIPTION
 *   Every Encrypt-Password field is deleted from every message, whatever
 *   happens next; its value is never stored in the collected header
 *   section, never logged and never written anywhere.
 *
 *   Honoured only on outbound mail from an authenticated sender
 *   (mw_pgp_password_header_ok). Then the message is not key-encrypted or
 *   signed: the whole original message (without the field) is encrypted
 *   with the password and replaced by the multipart/mixed entity of
 *   mw_pgp_password_wrap(); the Content-* fields are replaced and
 *   MIME-Version is 1.0. Log item pgp=password-encrypted.
 *     several fields          550 5.7.1, pgp=reject:password-fields
 *     an unusable value       550 5.7.1, pgp=reject:password-value
 *     over max_size           552 5.3.4 (too_big_action reject), else
 *                             451 4.3.4, pgp=...:too-big (never in clear)
 *     encryption failed       451 4.7.1, pgp=tempfail:password
 *   Otherwise (inbound, or no SMTP AUTH) the fields are deleted and ignored,
 *   log item pgp-password=ignored, and the message goes on as without them.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "flow.h"
#include "gpg.h"
#include "mw/alloc.h"
#include "mw/log.h"

void
mw_pgp_pw_header(struct mw_pgp_msg *pm, struct mw_msg *m, const char *value)
{
    struct mw_err err = {0};

    if (pm->npw++ == 0)
        pm->pw_honour =
            mw_pgp_password_header_ok(mw_msg_direction(m) == MW_OUTBOUND, mw_msg_auth_user(m));
    if (!pm->pw_honour)
        return;
    if (pm->npw > 1) {
        mw_wipe(pm->password, sizeof(pm->password));
        return;
    }
    if (mw_pgp_password_from_header(value, strlen(value), pm->password, &err) < 0)
        pm->pw_bad = 1;
}

/* Refuse the message in password mode; the reason never holds the password. */
static enum mw_verdict
mw_pgp_pw_refuse(struct mw_msg *m, const char *code, const char *dsn, const char *reason,
                 const char *text)
{
    int reject = code[0] == '5';

    mw_msg_set_reply(m, code, dsn, "%s", text);
    mw_msg_log_add(m, "pgp=%s:%s", reject ? "reject" : "tempfail", reason);
    mw_log_warn("%s: pgp: %s", mw_msg_queue_id(m), text);
    return reject ? MW_REJECT : MW_TEMPFAIL;
}

/* The replacement entity's header lines: each field added, unfolded; 0 or -1. */
static int
mw_pgp_pw_headers(struct mw_msg *m, const struct mw_pgp_msg *pm, const char *hdr, size_t len)
{
    struct mw_buf value;
    char name[64];
    size_t i = 0, n;
    int rc = 0, first = 1;

    mw_buf_init(&value);
    while (rc == 0 && i < len) {
        const char *colon = memchr(hdr + i, ':', len - i);
        if (colon == NULL || (n = (size_t)(colon - (hdr + i))) == 0 || n >= sizeof(name)) {
            rc = -1;
            break;
        }
        memcpy(name, hdr + i, n);
        name[n] = '\0';
        i += n + 1;
        while (i < len && (hdr[i] == ' ' || hdr[i] == '\t'))
            i++;
        mw_buf_reset(&value);
        /* The value up to a CRLF not followed by a blank (a fold is unfolded). */
        while (i < len &&
               !(hdr[i] == '\r' && (i + 2 >= len || (hdr[i + 2] != ' ' && hdr[i + 2] != '\t')))) {
            if (hdr[i] != '\r' && hdr[i] != '\n')
                mw_buf_putc(&value, hdr[i]);
            i++;
        }
        i += 2;
        if (strncasecmp(name, "Content-", 8) != 0) {
            rc = -1;
        } else if (first) {
            /* Content-Type: the Content-* fields of the message go, MIME-Version is set. */
            mw_pgp_apply_headers(m, pm, value.data, NULL);
            first = 0;
        } else {
            mw_msg_header_add(m, name, value.data);
        }
    }
    mw_buf_release(&value);
    return first ? -1 : rc;
}

/* Encrypt the collected message with the password and record the new entity. */
static enum mw_verdict
mw_pgp_pw_wrap(const struct mw_pgp_settings *s, struct mw_pgp_msg *pm, struct mw_msg *m)
{
    struct mw_pgp_gpg_conf conf = {s->home, s->passphrase};
    struct mw_buf raw, out;
    struct mw_err err = {0};
    enum mw_verdict v = MW_CONTINUE;
    gpgme_ctx_t ctx;
    const char *sep;
    int kept;

    mw_buf_init(&raw);
    mw_buf_init(&out);
    if (!(kept = mw_pgp_msg_raw(pm, &raw, &err) == 0)) {
        v = mw_pgp_spool_fail(m, err.text);
    } else if ((ctx = mw_pgp_gpg_ctx(&conf, &err)) == NULL ||
               mw_pgp_password_wrap(ctx, raw.data, raw.len, pm->password, s->explanation, &out,
                                    &err) < 0) {
        v = MW_TEMPFAIL;
    } else if ((sep = memmem(out.data, out.len, "\r\n\r\n", 4)) == NULL ||
               mw_pgp_pw_headers(m, pm, out.data, (size_t)(sep - out.data) + 2) < 0) {
        mw_err_set(&err, "unexpected MIME entity");
        v = MW_TEMPFAIL;
    } else {
        mw_msg_body_replace(m, sep + 4, out.len - (size_t)(sep + 4 - out.data));
        mw_msg_log_add(m, "pgp=password-encrypted");
    }
    mw_wipe(pm->password, sizeof(pm->password));
    if (v == MW_TEMPFAIL && kept) {
        char text[MW_ERR_MAX + 64];
        snprintf(text, sizeof(text), "cannot encrypt the message with the password: %s", err.text);
        v = mw_pgp_pw_refuse(m, "451", "4.7.1", "password", text);
    }
    mw_wipe(raw.data, raw.len);
    mw_buf_release(&raw);
    mw_buf_release(&out);
    return v;
}

enum mw_verdict
mw_pgp_pw_eom(const struct mw_pgp_settings *s, struct mw_pgp_msg *pm, struct mw_msg *m, int *done)
{
    /* Highest index first, so a deletion never moves one still to delete. */
    for (size_t i = pm->npw; i > 0; i--)
        mw_msg_header_delete(m, MW_PGP_PASSWORD_HEADER, i);
    *done = pm->pw_honour;
    if (!pm->pw_honour) {
        mw_msg_log_add(m, "pgp-password=ignored");
        mw_log_info("%s: pgp: %s field from an inbound or unauthenticated client removed and "
                    "ignored",
                    mw_msg_queue_id(m), MW_PGP_PASSWORD_HEADER);
        return MW_CONTINUE;
    }
    if (pm->npw > 1) {
        mw_wipe(pm->password, sizeof(pm->password));
        return mw_pgp_pw_refuse(m, "550", "5.7.1", "password-fields",
                                "more than one " MW_PGP_PASSWORD_HEADER " header field");
    }
    if (pm->pw_bad)
        return mw_pgp_pw_refuse(m, "550", "5.7.1", "password-value",
                                MW_PGP_PASSWORD_HEADER " value unusable (empty, over 256 bytes "
                                                       "or control characters)");
    if (pm->too_big) {
        mw_wipe(pm->password, sizeof(pm->password));
        int r = s->too_big == 'r';
        return mw_pgp_pw_refuse(m, r ? "552" : "451", r ? "5.3.4" : "4.3.4", "too-big",
                                "message too big to encrypt with a password");
    }
    return mw_pgp_pw_wrap(s, pm, m);
}
