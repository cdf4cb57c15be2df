/*
 * mail.c - the report part of a report mail, with GMime 3 (see mail.h).
 *
 * GMime parses the message from memory. Only the first part that carries a
 * report is decoded (base64 or whatever its Content-Transfer-Encoding says);
 * its size is bounded by the message's, which the plugin already bounded
 * by [tlsrpt] max_size.
 */
#include "config.h"

#include <string.h>

#include <gmime/gmime.h>

#include "mail.h"
#include "mw/alloc.h"
#include "mw/tlsrpt.h"

void
mw_tlsrpt_mail_init(void)
{
    g_mime_init();
}

void
mw_tlsrpt_mail_fini(void)
{
    g_mime_shutdown();
}

/* What g_mime_message_foreach() carries: the first report part found. */
struct mw_tlsrpt_find {
    GMimePart *part;
    int gzipped;
};

static void
mw_tlsrpt_find_part(GMimeObject *parent, GMimeObject *obj, gpointer data)
{
    struct mw_tlsrpt_find *f = data;
    GMimeContentType *ct;
    char *type;
    int kind;

    (void)parent;
    if (f->part != NULL || !GMIME_IS_PART(obj) ||
        (ct = g_mime_object_get_content_type(obj)) == NULL)
        return;
    type = g_mime_content_type_get_mime_type(ct);
    kind = mw_tlsrpt_content_type(type);
    g_free(type);
    if (kind >= 0) {
        f->part = GMIME_PART(obj);
        f->gzipped = kind;
    }
}

/* A copy of header field name of m (unfolded, cut to 255 bytes), or NULL. */
static char *
mw_tlsrpt_field(GMimeMessage *m, const char *name)
{
    const char *v = g_mime_object_get_header(GMIME_OBJECT(m), name);

    return v != NULL ? mw_strndup(v, 255) : NULL;
}

int
mw_tlsrpt_mail_report(const char *msg, size_t len, struct mw_tlsrpt_mail *out, struct mw_err *err)
{
    GMimeStream *s = g_mime_stream_mem_new_with_buffer(msg, len);
    GMimeParser *p = g_mime_parser_new_with_stream(s);
    GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
    struct mw_tlsrpt_find f = {NULL, 0};
    GMimeDataWrapper *w;
    GByteArray *ba;
    GMimeStream *dec;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    mw_buf_init(&out->report);
    g_object_unref(p);
    g_object_unref(s);
    if (m == NULL)
        return mw_err_set(err, "not a MIME message");
    out->domain = mw_tlsrpt_field(m, "TLS-Report-Domain");
    out->submitter = mw_tlsrpt_field(m, "TLS-Report-Submitter");
    g_mime_message_foreach(m, mw_tlsrpt_find_part, &f);
    if (f.part == NULL || (w = g_mime_part_get_content(f.part)) == NULL) {
        mw_err_set(err, "no application/tlsrpt+gzip or application/tlsrpt+json part");
        goto out;
    }
    dec = g_mime_stream_mem_new();
    if (g_mime_data_wrapper_write_to_stream(w, dec) < 0) {
        mw_err_set(err, "cannot decode the report part");
    } else {
        ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(dec));
        mw_buf_append(&out->report, ba->data, ba->len);
        out->gzipped = f.gzipped;
        rc = 0;
    }
    g_object_unref(dec);
out:
    g_object_unref(m);
    return rc;
}

void
mw_tlsrpt_mail_release(struct mw_tlsrpt_mail *mail)
{
    mw_buf_release(&mail->report);
    mw_free(&mail->domain);
    mw_free(&mail->submitter);
}
