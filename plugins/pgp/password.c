/*
 * password.c - password-encrypted messages (see password.h).
 *
 * SYNOPSIS
 *   mw_pgp_password_wrap(ctx, msg, len, password, explanation, out, err)
 *   mw_pgp_password_check_packet(data, len, err)
 *   mw_pgp_password_header_ok(outbound, auth_user)
 *   mw_pgp_password_from_header(value, len, out, err)
 *
 * DESCRIPTION
 *   gpg encrypts with no recipients and GPGME_ENCRYPT_SYMMETRIC; the cipher
 *   comes from the home's gpg.conf (s2k-cipher-algo), which GPGME cannot set
 *   per operation, so the first packet of the result is read back and
 *   anything weaker than AES-256 with iterated+salted S2K fails the call.
 *   GMime builds the multipart/mixed entity; the encrypted message is a
 *   base64 application/octet-stream attachment.
 *
 *   The caller's context is borrowed: armor, text mode, pinentry mode, the
 *   passphrase callback and the no-symkey-cache flag are set for the
 *   operation and put back afterwards.
 */
#include "config.h"

#include <gmime/gmime.h>
#include <string.h>

#include "mw/alloc.h"
#include "password.h"

const char mw_pgp_password_explanation[] =
    "This message was encrypted with a password.\n"
    "\n"
    "The original message is in the attached file " MW_PGP_PASSWORD_FILENAME ".\n"
    "Open it with OpenPGP software, for example GnuPG:\n"
    "\n"
    "    gpg --decrypt " MW_PGP_PASSWORD_FILENAME " > message.eml\n"
    "\n"
    "and enter the password the sender gave you (not by e-mail).\n"
    "The decrypted file is the complete message; open it with your mail program.\n";

/* The state of the borrowed context, restored after the operation. */
struct password_saved {
    int armor, textmode;
    gpgme_pinentry_mode_t pinentry;
    gpgme_passphrase_cb_t cb;
    void *cb_hook;
    char *symkey_cache;
};

static gpgme_error_t
password_cb(void *hook, const char *hint, const char *info, int prev_bad, int fd)
{
    const char *password = hook;

    (void)hint;
    (void)info;
    if (prev_bad)
        return gpgme_error(GPG_ERR_BAD_PASSPHRASE);
    if (gpgme_io_writen(fd, password, strlen(password)) < 0 || gpgme_io_writen(fd, "\n", 1) < 0)
        return gpgme_error_from_syserror();
    return 0;
}

static void
password_borrow(gpgme_ctx_t ctx, struct password_saved *s, const char *password)
{
    const char *v = gpgme_get_ctx_flag(ctx, "no-symkey-cache");

    s->armor = gpgme_get_armor(ctx);
    s->textmode = gpgme_get_textmode(ctx);
    s->pinentry = gpgme_get_pinentry_mode(ctx);
    gpgme_get_passphrase_cb(ctx, &s->cb, &s->cb_hook);
    s->symkey_cache = mw_strdup(v ? v : "");
    gpgme_set_armor(ctx, 0);
    gpgme_set_textmode(ctx, 0);
    gpgme_set_pinentry_mode(ctx, GPGME_PINENTRY_MODE_LOOPBACK);
    gpgme_set_passphrase_cb(ctx, password_cb, (void *)password);
    gpgme_set_ctx_flag(ctx, "no-symkey-cache", "1");
}

static void
password_return(gpgme_ctx_t ctx, struct password_saved *s)
{
    gpgme_set_armor(ctx, s->armor);
    gpgme_set_textmode(ctx, s->textmode);
    gpgme_set_pinentry_mode(ctx, s->pinentry);
    gpgme_set_passphrase_cb(ctx, s->cb, s->cb_hook);
    gpgme_set_ctx_flag(ctx, "no-symkey-cache", *s->symkey_cache ? s->symkey_cache : "0");
    mw_free(&s->symkey_cache);
}

int
mw_pgp_password_check_packet(const unsigned char *d, size_t len, struct mw_err *err)
{
    size_t blen, hdr;

    if (len < 2)
        return mw_err_set(err, "encrypted data too short");
    if ((d[0] & 0xc0) == 0xc0) { /* new format */
        if ((d[0] & 0x3f) != 3)
            return mw_err_set(err, "first packet is not a symmetric session key packet");
        if (d[1] >= 192)
            return mw_err_set(err, "symmetric session key packet too long");
        blen = d[1];
        hdr = 2;
    } else if ((d[0] & 0xc0) == 0x80) { /* old format */
        if (((d[0] >> 2) & 0x0f) != 3)
            return mw_err_set(err, "first packet is not a symmetric session key packet");
        if ((d[0] & 3) != 0)
            return mw_err_set(err, "symmetric session key packet too long");
        blen = d[1];
        hdr = 2;
    } else {
        return mw_err_set(err, "not OpenPGP data");
    }
    if (blen < 13 || len - hdr < blen)
        return mw_err_set(err, "symmetric session key packet truncated");
    d += hdr;
    if (d[0] != 4)
        return mw_err_set(err, "symmetric session key packet version %u, not 4", d[0]);
    if (d[1] != 9)
        return mw_err_set(err, "cipher algorithm %u, not AES-256 (9): set s2k-cipher-algo AES256 "
                          "in the GnuPG home's gpg.conf", d[1]);
    if (d[2] != 3)
        return mw_err_set(err, "S2K mode %u, not iterated and salted (3)", d[2]);
    return 0;
}

/* Symmetric encryption of msg into cipher. */
static int
password_encrypt(gpgme_ctx_t ctx, const char *msg, size_t len, const char *password,
                 struct mw_buf *cipher, struct mw_err *err)
{
    struct password_saved saved;
    gpgme_data_t in = NULL, out = NULL;
    gpgme_error_t ge;
    char chunk[8192];
    ssize_t n;

    if ((ge = gpgme_data_new_from_mem(&in, msg, len, 0)) != 0 || (ge = gpgme_data_new(&out)) != 0) {
        if (in != NULL)
            gpgme_data_release(in);
        return mw_err_set(err, "password encryption: %s", gpgme_strerror(ge));
    }
    password_borrow(ctx, &saved, password);
    ge = gpgme_op_encrypt(ctx, NULL, GPGME_ENCRYPT_SYMMETRIC | GPGME_ENCRYPT_NO_COMPRESS, in, out);
    password_return(ctx, &saved);
    gpgme_data_release(in);
    if (ge == 0 && gpgme_data_seek(out, 0, SEEK_SET) == 0) {
        while ((n = gpgme_data_read(out, chunk, sizeof(chunk))) > 0)
            mw_buf_append(cipher, chunk, (size_t)n);
    }
    gpgme_data_release(out);
    if (ge != 0)
        return mw_err_set(err, "password encryption failed: %s", gpgme_strerror(ge));
    return mw_pgp_password_check_packet((const unsigned char *)cipher->data, cipher->len, err);
}

/* The multipart/mixed entity around the encrypted message, CRLF. */
static void
password_entity(const char *explanation, const struct mw_buf *cipher, struct mw_buf *out)
{
    GMimeMultipart *mp = g_mime_multipart_new_with_subtype("mixed");
    GMimeTextPart *text = g_mime_text_part_new_with_subtype("plain");
    GMimePart *att = g_mime_part_new_with_type("application", "octet-stream");
    GMimeStream *data = g_mime_stream_mem_new_with_buffer(cipher->data, cipher->len);
    GMimeDataWrapper *dw = g_mime_data_wrapper_new_with_stream(data, GMIME_CONTENT_ENCODING_DEFAULT);
    GMimeFormatOptions *fo = g_mime_format_options_new();
    GMimeStream *os = g_mime_stream_mem_new();
    GByteArray *bytes;

    g_mime_text_part_set_text(text, explanation);
    g_mime_multipart_add(mp, GMIME_OBJECT(text));
    g_mime_part_set_content(att, dw);
    g_mime_part_set_content_encoding(att, GMIME_CONTENT_ENCODING_BASE64);
    g_mime_object_set_disposition(GMIME_OBJECT(att), "attachment");
    g_mime_part_set_filename(att, MW_PGP_PASSWORD_FILENAME);
    g_mime_multipart_add(mp, GMIME_OBJECT(att));
    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
    g_mime_object_write_to_stream(GMIME_OBJECT(mp), fo, os);
    bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(os));
    mw_buf_append(out, bytes->data, bytes->len);
    g_object_unref(os);
    g_mime_format_options_free(fo);
    g_object_unref(dw);
    g_object_unref(data);
    g_object_unref(att);
    g_object_unref(text);
    g_object_unref(mp);
}

int
mw_pgp_password_wrap(gpgme_ctx_t ctx, const char *msg, size_t len, const char *password,
                     const char *explanation, struct mw_buf *out, struct mw_err *err)
{
    struct mw_buf cipher;
    int rc;

    if (password == NULL || *password == '\0' || strlen(password) > MW_PGP_PASSWORD_MAX ||
        strpbrk(password, "\r\n") != NULL)
        return mw_err_set(err, "password empty, too long or with line breaks");
    if (len == 0)
        return mw_err_set(err, "empty message");
    mw_buf_init(&cipher);
    rc = password_encrypt(ctx, msg, len, password, &cipher, err);
    if (rc == 0)
        password_entity(explanation ? explanation : mw_pgp_password_explanation, &cipher, out);
    mw_buf_release(&cipher);
    return rc;
}

int
mw_pgp_password_header_ok(int outbound, const char *auth_user)
{
    return outbound && auth_user != NULL && *auth_user != '\0';
}

int
mw_pgp_password_from_header(const char *value, size_t len, char out[MW_PGP_PASSWORD_MAX + 1],
                            struct mw_err *err)
{
    size_t n = 0, start = 0, end = len;

    /* Folding whitespace around the value is not part of the password. */
    while (start < end && strchr(" \t\r\n", value[start]) != NULL && value[start] != '\0')
        start++;
    while (end > start && strchr(" \t\r\n", value[end - 1]) != NULL && value[end - 1] != '\0')
        end--;
    for (size_t i = start; i < end; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c == '\r' || c == '\n')
            continue; /* unfolding keeps the blank that follows */
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            mw_wipe(out, MW_PGP_PASSWORD_MAX + 1);
            return mw_err_set(err, "%s: control character in the value", MW_PGP_PASSWORD_HEADER);
        }
        if (n == MW_PGP_PASSWORD_MAX) {
            mw_wipe(out, MW_PGP_PASSWORD_MAX + 1);
            return mw_err_set(err, "%s: longer than %d bytes", MW_PGP_PASSWORD_HEADER,
                              MW_PGP_PASSWORD_MAX);
        }
        out[n++] = (char)c;
    }
    out[n] = '\0';
    if (n == 0)
        return mw_err_set(err, "%s: empty value", MW_PGP_PASSWORD_HEADER);
    return 0;
}
