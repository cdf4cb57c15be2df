/*
 * mime.c - the pgp plugin's MIME work with GMime 3 (see mime.h).
 *
 * A message held in memory is parsed from memory. A spooled one (on disk,
 * see mw/spool.h) is parsed from its temp file with a persistent stream:
 * GMime keeps offsets into the file, not the content, and the entity to
 * encrypt is written to another temp file. The entity to sign is still
 * built whole in memory (it becomes part of the new body anyway).
 * GMime's global state is set up once in the plugin's init (host thread,
 * before the workers) and torn down in fini.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "mime.h"
#include "mw/alloc.h"

void
mw_pgp_mime_init(void)
{
    g_mime_init();
}

void
mw_pgp_mime_fini(void)
{
    g_mime_shutdown();
}

/* The message on s; the parts keep references into s (persistent), not copies. */
static GMimeMessage *
mw_pgp_parse_stream(GMimeStream *s)
{
    GMimeParser *p = g_mime_parser_new_with_stream(s);
    GMimeMessage *m;

    g_mime_parser_set_persist_stream(p, TRUE);
    m = g_mime_parser_construct_message(p, NULL);
    g_object_unref(p);
    return m;
}

static GMimeMessage *
mw_pgp_parse(const char *msg, size_t len)
{
    GMimeStream *s = g_mime_stream_mem_new_with_buffer(msg, len);
    GMimeMessage *m = mw_pgp_parse_stream(s);

    g_object_unref(s);
    return m;
}

/* An inline armored message: the marker at the start of a line of the body. */
static int
mw_pgp_inline_armor(const char *msg, size_t len)
{
    static const char mark[] = "-----BEGIN PGP MESSAGE-----";
    const char *p = msg, *end = msg + len;

    while ((p = memmem(p, (size_t)(end - p), mark, sizeof(mark) - 1)) != NULL) {
        if (p == msg || p[-1] == '\n')
            return 1;
        p += sizeof(mark) - 1;
    }
    return 0;
}

/* Whether the parsed message m (may be NULL) is PGP/MIME or S/MIME encrypted; unrefs m. */
static int
mw_pgp_encrypted_type(GMimeMessage *m)
{
    GMimeObject *part;
    GMimeContentType *ct;
    int enc = 0;

    if (m == NULL)
        return 0;
    part = g_mime_message_get_mime_part(m);
    ct = part ? g_mime_object_get_content_type(part) : NULL;
    if (ct != NULL && (g_mime_content_type_is_type(ct, "multipart", "encrypted") ||
                       g_mime_content_type_is_type(ct, "application", "pkcs7-mime") ||
                       g_mime_content_type_is_type(ct, "application", "x-pkcs7-mime")))
        enc = 1;
    g_object_unref(m);
    return enc;
}

int
mw_pgp_mime_is_encrypted(const char *msg, size_t len)
{
    if (mw_pgp_inline_armor(msg, len))
        return 1;
    return mw_pgp_encrypted_type(mw_pgp_parse(msg, len));
}

static int
mw_pgp_7bit(const unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] >= 0x80)
            return 0;
    return 1;
}

/*
 * Setting a parameter makes GMime encode the whole Content-Type again, and GMime 3.2
 * asks for gigabytes when an existing parameter holds 8-bit bytes (found by
 * fuzz-pgp-mime): such a field is refused before GMime touches it (RFC 2045 allows
 * none there).
 */
static int
mw_pgp_content_type_7bit(GMimeObject *part)
{
    GMimeHeader *h = g_mime_header_list_get_header(g_mime_object_get_header_list(part),
                                                   "Content-Type");
    const char *raw = h != NULL ? g_mime_header_get_raw_value(h) : NULL;

    return raw == NULL || mw_pgp_7bit((const unsigned char *)raw, strlen(raw));
}

#define MW_PGP_PARAM_NAME_MAX 64
#define MW_PGP_MIME_CHUNK 65536 /* bytes of ciphertext converted at a time */

/*
 * GMime 3.2 never finishes folding a parameter whose name is longer than a
 * header line (a 261-byte message with a 90-byte name ran for minutes in
 * g_mime_param_list_encode; found by fuzz-pgp-mime). Real attribute names
 * are a few letters: refuse a part with a long one before GMime encodes it.
 */
static int
mw_pgp_content_type_names_short(GMimeObject *part)
{
    GMimeContentType *ct = g_mime_object_get_content_type(part);
    GMimeParamList *pl = ct != NULL ? g_mime_content_type_get_parameters(ct) : NULL;
    int n = pl != NULL ? g_mime_param_list_length(pl) : 0;

    for (int i = 0; i < n; i++) {
        const char *name = g_mime_param_get_name(g_mime_param_list_get_parameter_at(pl, i));

        if (name != NULL && strlen(name) > MW_PGP_PARAM_NAME_MAX)
            return 0;
    }
    return 1;
}

int
mw_pgp_mime_entity(const char *msg, size_t len, const char *hp, const char *hp_headers,
                   struct mw_buf *out, struct mw_err *err)
{
    GMimeMessage *m = mw_pgp_parse(msg, len);
    GMimeObject *part;
    GMimeFormatOptions *fo;
    GMimeStream *s;
    GByteArray *ba;

    if (m == NULL || (part = g_mime_message_get_mime_part(m)) == NULL) {
        if (m != NULL)
            g_object_unref(m);
        return mw_err_set(err, "the message has no MIME structure GMime can parse");
    }
    if (hp != NULL && !mw_pgp_content_type_7bit(part)) {
        g_object_unref(m);
        return mw_err_set(err, "the MIME part's Content-Type is not 7 bit");
    }
    if (hp != NULL && !mw_pgp_content_type_names_short(part)) {
        g_object_unref(m);
        return mw_err_set(err, "the MIME part's Content-Type has a parameter name over %d bytes",
                          MW_PGP_PARAM_NAME_MAX);
    }
    if (hp != NULL) {
        g_mime_object_set_content_type_parameter(part, "protected-headers", "v1");
        g_mime_object_set_content_type_parameter(part, "hp", hp);
        mw_buf_puts(out, hp_headers);
    }
    if (hp == NULL || strcmp(hp, "clear") == 0)
        g_mime_object_encode(part, GMIME_ENCODING_CONSTRAINT_7BIT);
    fo = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
    s = g_mime_stream_mem_new();
    if (g_mime_object_write_to_stream(part, fo, s) < 0) {
        g_mime_format_options_free(fo);
        g_object_unref(s);
        g_object_unref(m);
        return mw_err_set(err, "cannot write the MIME entity");
    }
    ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
    /* Encoding fixes the body only: an 8-bit byte in the part's own header fields would not
     * survive transport intact and break the signature (RFC 3156 section 3). */
    if ((hp == NULL || strcmp(hp, "clear") == 0) && !mw_pgp_7bit(ba->data, ba->len)) {
        g_mime_format_options_free(fo);
        g_object_unref(s);
        g_object_unref(m);
        return mw_err_set(err, "the MIME part has a header field that is not 7 bit");
    }
    mw_buf_append(out, ba->data, ba->len);
    g_mime_format_options_free(fo);
    g_object_unref(s);
    g_object_unref(m);
    return 0;
}

/* A stream over the spool: GMime reads the temp file in place, or a copy of the memory. */
static GMimeStream *
mw_pgp_spool_stream(const struct mw_spool *raw)
{
    int fd;

    if (mw_spool_mem(raw) != NULL)
        return g_mime_stream_mem_new_with_buffer(mw_spool_mem(raw), mw_spool_len(raw));
    if ((fd = dup(mw_spool_fd(raw))) < 0)
        return NULL;
    return g_mime_stream_fs_new_with_bounds(fd, 0, (gint64)mw_spool_len(raw));
}

/* mw_pgp_inline_armor over the spool, 64 KiB at a time; -1 on a read error. */
static int
mw_pgp_spool_armor(const struct mw_spool *raw)
{
    static const char mark[] = "-----BEGIN PGP MESSAGE-----";
    enum { CHUNK = 65536, KEEP = sizeof(mark) }; /* the mark and the byte before it */
    char *buf = g_malloc(CHUNK + KEEP), *p;
    size_t have = 0, off = 0;
    int found = 0;

    while (found == 0) {
        ssize_t n = mw_spool_read(raw, off, buf + have, CHUNK);
        size_t total, base = off - have; /* buf[0] is byte base of the message */
        if (n <= 0) {
            found = n < 0 ? -1 : 0;
            break;
        }
        total = have + (size_t)n;
        for (p = buf; (p = memmem(p, total - (size_t)(p - buf), mark, KEEP - 1)) != NULL;
             p += KEEP - 1) {
            /* A match at buf[0] past the start was seen in the previous window. */
            if ((base == 0 && p == buf) || (p > buf && p[-1] == '\n')) {
                found = 1;
                break;
            }
        }
        off += (size_t)n;
        have = total < KEEP ? total : KEEP;
        memmove(buf, buf + total - have, have);
    }
    g_free(buf);
    return found;
}

int
mw_pgp_mime_is_encrypted_spool(const struct mw_spool *raw)
{
    GMimeStream *s;
    GMimeMessage *m;
    int armor;

    if (mw_spool_mem(raw) != NULL)
        return mw_pgp_mime_is_encrypted(mw_spool_mem(raw), mw_spool_len(raw));
    if ((armor = mw_pgp_spool_armor(raw)) != 0)
        return armor;
    if ((s = mw_pgp_spool_stream(raw)) == NULL)
        return -1;
    m = mw_pgp_parse_stream(s);
    g_object_unref(s);
    return mw_pgp_encrypted_type(m);
}

/* Write part to out: into its temp file when raw is spooled, else through memory. */
static int
mw_pgp_write_spool(GMimeObject *part, int spooled, struct mw_spool *out, struct mw_err *err)
{
    GMimeFormatOptions *fo = g_mime_format_options_new();
    GMimeStream *s = NULL;
    int fd = -1, rc = 0;

    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
    if (!spooled)
        s = g_mime_stream_mem_new();
    else if ((fd = mw_spool_file(out)) >= 0 && (fd = dup(fd)) >= 0)
        s = g_mime_stream_fs_new(fd);
    if (s == NULL)
        rc = mw_err_set(err, "%s", mw_spool_error(out) ? mw_spool_error(out) : strerror(errno));
    else if (g_mime_object_write_to_stream(part, fo, s) < 0 || g_mime_stream_flush(s) < 0)
        rc = mw_err_set(err, "cannot write the MIME entity: %s", strerror(errno));
    else if (!spooled) {
        GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
        if (mw_spool_append(out, ba->data, ba->len) < 0)
            rc = mw_err_set(err, "%s", mw_spool_error(out));
    } else if (mw_spool_sync(out) < 0) {
        rc = mw_err_set(err, "%s", mw_spool_error(out));
    }
    if (rc < 0)
        mw_spool_fail(out, err->text);
    if (s != NULL)
        g_object_unref(s);
    g_mime_format_options_free(fo);
    return rc;
}

int
mw_pgp_mime_cipher_entity(const struct mw_spool *raw, const char *hp_headers, struct mw_spool *out,
                          struct mw_err *err)
{
    GMimeStream *in = mw_pgp_spool_stream(raw);
    GMimeMessage *m = in != NULL ? mw_pgp_parse_stream(in) : NULL;
    GMimeObject *part = m != NULL ? g_mime_message_get_mime_part(m) : NULL;
    int rc = -1;

    if (in == NULL)
        mw_err_set(err, "cannot read the spooled message: %s", strerror(errno));
    else if (part == NULL)
        mw_err_set(err, "the message has no MIME structure GMime can parse");
    else if (!mw_pgp_content_type_7bit(part))
        mw_err_set(err, "the MIME part's Content-Type is not 7 bit");
    else if (mw_spool_append(out, hp_headers, strlen(hp_headers)) < 0)
        mw_err_set(err, "%s", mw_spool_error(out));
    else {
        g_mime_object_set_content_type_parameter(part, "protected-headers", "v1");
        g_mime_object_set_content_type_parameter(part, "hp", "cipher");
        rc = mw_pgp_write_spool(part, mw_spool_mem(raw) == NULL, out, err);
    }
    if (m != NULL)
        g_object_unref(m);
    if (in != NULL)
        g_object_unref(in);
    return rc;
}

void
mw_pgp_mime_boundary(char *b, size_t size)
{
    unsigned char r[16];
    size_t n = 0;

    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
        memset(r, 0x5a, sizeof(r)); /* uniqueness only matters against the content */
    n = (size_t)snprintf(b, size, "=-mailward-pgp-");
    for (size_t i = 0; i < sizeof(r) && n + 3 <= size; i++, n += 2)
        snprintf(b + n, size - n, "%02x", r[i]);
}

int
mw_pgp_mime_encrypted(const char *boundary, const struct mw_spool *cipher,
                      struct mw_spool *body, struct mw_buf *ctype)
{
    struct mw_buf out;
    char *chunk = mw_malloc(MW_PGP_MIME_CHUNK), prev = '\0';
    size_t off = 0;
    int rc = 0;

    mw_buf_printf(ctype,
                  "multipart/encrypted;\n\tprotocol=\"application/pgp-encrypted\";\n\t"
                  "boundary=\"%s\"",
                  boundary);
    mw_buf_init(&out);
    mw_buf_printf(&out,
                  "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n"
                  "--%s\r\n"
                  "Content-Type: application/pgp-encrypted\r\n"
                  "Content-Description: PGP/MIME version identification\r\n"
                  "\r\n"
                  "Version: 1\r\n"
                  "\r\n"
                  "--%s\r\n"
                  "Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n"
                  "Content-Description: OpenPGP encrypted message\r\n"
                  "Content-Disposition: inline; filename=\"encrypted.asc\"\r\n"
                  "\r\n",
                  boundary, boundary);
    /* GnuPG's armor has LF lines: make them CRLF (prev carries over the pieces). */
    while (rc == 0 && off < mw_spool_len(cipher)) {
        ssize_t n = mw_spool_read(cipher, off, chunk, MW_PGP_MIME_CHUNK);
        if (n <= 0) {
            mw_spool_fail(body, "cannot read the ciphertext back from its temp file");
            rc = -1;
            break;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (chunk[i] == '\n' && prev != '\r')
                mw_buf_putc(&out, '\r');
            mw_buf_putc(&out, chunk[i]);
            prev = chunk[i];
        }
        off += (size_t)n;
        rc = mw_spool_append(body, out.data, out.len);
        mw_buf_reset(&out);
    }
    if (rc == 0) {
        mw_buf_printf(&out, "\r\n--%s--\r\n", boundary);
        rc = mw_spool_append(body, out.data, out.len);
    }
    mw_buf_release(&out);
    mw_free(&chunk);
    return rc;
}

void
mw_pgp_mime_signed(const char *boundary, const struct mw_buf *entity, const struct mw_buf *sig,
                   const char *micalg, struct mw_buf *body, struct mw_buf *ctype)
{
    mw_buf_printf(ctype,
                  "multipart/signed; micalg=%s;\n\tprotocol=\"application/pgp-signature\";\n\t"
                  "boundary=\"%s\"",
                  micalg, boundary);
    mw_buf_printf(body, "This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\r\n--%s\r\n",
                  boundary);
    mw_buf_append(body, entity->data, entity->len);
    mw_buf_printf(body,
                  "\r\n--%s\r\n"
                  "Content-Type: application/pgp-signature; name=\"signature.asc\"\r\n"
                  "Content-Description: OpenPGP digital signature\r\n"
                  "Content-Disposition: attachment; filename=\"signature.asc\"\r\n"
                  "\r\n",
                  boundary);
    for (size_t i = 0; i < sig->len; i++) {
        if (sig->data[i] == '\n' && (i == 0 || sig->data[i - 1] != '\r'))
            mw_buf_putc(body, '\r');
        mw_buf_putc(body, sig->data[i]);
    }
    mw_buf_printf(body, "\r\n--%s--\r\n", boundary);
}

int
mw_pgp_mime_from_addr(const char *value, char *out, size_t size)
{
    InternetAddressList *l = internet_address_list_parse(NULL, value);
    int rc = -1;

    if (l == NULL)
        return -1;
    for (int i = 0; i < internet_address_list_length(l); i++) {
        InternetAddress *a = internet_address_list_get_address(l, i);
        const char *addr;
        if (!INTERNET_ADDRESS_IS_MAILBOX(a))
            continue;
        addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
        if (addr != NULL && strlen(addr) < size) {
            snprintf(out, size, "%s", addr);
            rc = 0;
        }
        break;
    }
    g_object_unref(l);
    return rc;
}
