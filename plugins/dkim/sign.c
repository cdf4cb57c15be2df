/*
 * sign.c - one outbound message signed by the dkim plugin (see sign.h).
 *
 * The signing domain comes from the header From, as OpenDKIM does: the
 * message must have exactly one From header holding exactly one mailbox
 * (else it is not signed and the log says why). Its "local@domain" is
 * looked up in the SigningTable; each KeyTable entry found gives one
 * signature, d= being the entry's domain ("%": the From domain).
 *
 * Header lines are kept (bounded by MW_DKIM_HEADERS_MAX) until the end of
 * the header section, when the keys are known; the body is streamed into
 * every handle chunk by chunk and never kept. At eom each signature is
 * inserted at the top of the header section, folded with bare LF + TAB as
 * libmilter wants (libopendkim folds with CRLF).
 *
 * When an earlier plugin (pgp, listed before dkim) replaced the body, the
 * streamed handles are dropped at eom and each signature is made afresh
 * over the message as it will leave: the final header fields from
 * mw_msg_final_header() (its header changes applied as Postfix applies
 * them, each written back as "Name: value" like Postfix does) and the
 * replacement body. The keys stay those chosen from the From at the end
 * of the header section (pgp keeps From).
 *
 * A signature that fails at end of message is logged and left out; the
 * message still goes: the keys were tried at load time, so what fails here
 * is a lack of resources, and refusing the mail would not help.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "dkim/sign.h"
#include "dmarc/from.h"
#include "mw/alloc.h"
#include "mw/buf.h"
#include "mw/log.h"

struct mw_dkim_signer {
    struct mw_dkim_signcfg *sc; /* a reference */
    struct mw_buf headers;      /* header lines, each followed by NUL */
    size_t nfrom;               /* From headers seen */
    char *from;                 /* the first From value */
    const char *skip;           /* why this message is not signed, NULL: sign */
    DKIM *dkim[MW_DKIM_SIG_MAX];
    size_t key[MW_DKIM_SIG_MAX]; /* KeyTable index of each handle */
    char *domain[MW_DKIM_SIG_MAX];
    size_t n;
};

struct mw_dkim_signer *
mw_dkim_signer_new(struct mw_dkim_signcfg *sc)
{
    struct mw_dkim_signer *sg = mw_calloc(1, sizeof(*sg));

    sg->sc = mw_dkim_signcfg_ref(sc);
    mw_buf_init(&sg->headers);
    return sg;
}

void
mw_dkim_signer_free(struct mw_dkim_signer **sgp)
{
    struct mw_dkim_signer *sg = *sgp;

    if (sg == NULL)
        return;
    for (size_t i = 0; i < sg->n; i++) {
        if (sg->dkim[i] != NULL)
            dkim_free(sg->dkim[i]);
        mw_free(&sg->domain[i]);
    }
    mw_buf_release(&sg->headers);
    mw_free(&sg->from);
    mw_dkim_signcfg_unref(&sg->sc);
    mw_free(sgp);
}

void
mw_dkim_signer_header(struct mw_dkim_signer *sg, const char *name, const char *value,
                      const char *line, size_t len)
{
    if (sg->skip != NULL)
        return;
    if (sg->headers.len + len + 1 > MW_DKIM_HEADERS_MAX || memchr(line, '\0', len) != NULL) {
        sg->skip = "header section too large";
        mw_buf_release(&sg->headers);
        mw_buf_init(&sg->headers);
        return;
    }
    mw_buf_append(&sg->headers, line, len);
    mw_buf_putc(&sg->headers, '\0');
    if (strcasecmp(name, "From") == 0 && sg->nfrom++ == 0)
        sg->from = mw_strdup(value);
}

/* "Name: value" for libopendkim: bare LF line breaks made CRLF, no final CRLF. */
void
mw_dkim_header_line(struct mw_buf *b, const char *name, const char *value)
{
    mw_buf_printf(b, "%s: ", name);
    for (const char *p = value; *p != '\0'; p++) {
        if (*p == '\n' && (p == value || p[-1] != '\r'))
            mw_buf_putc(b, '\r');
        mw_buf_putc(b, *p);
    }
}

/* A signing handle for KeyTable entry k and domain d; NULL (logged) on failure. */
static DKIM *
mw_dkim_signer_open(struct mw_dkim_signer *sg, size_t k, const char *d, const char *id)
{
    const struct mw_dkim_key *key = &sg->sc->kt->v[k];
    DKIM_STAT st = DKIM_STAT_OK;
    DKIM *h;

    h = dkim_sign(sg->sc->lib, (const unsigned char *)id, NULL, sg->sc->keys[k].pem,
                  (const unsigned char *)key->selector, (const unsigned char *)d, sg->sc->hcanon,
                  sg->sc->bcanon, sg->sc->keys[k].alg, -1, &st);
    if (h == NULL)
        mw_log_error("%s: dkim: cannot sign with key %s: %s", id, key->name, dkim_getresultstr(st));
    return h;
}

/* End the header section of handle h (KeyTable entry k); frees h on failure. */
static DKIM *
mw_dkim_signer_eoh_one(struct mw_dkim_signer *sg, DKIM *h, size_t k, DKIM_STAT st, const char *id)
{
    if (st == DKIM_STAT_OK)
        st = dkim_eoh(h);
    if (st != DKIM_STAT_OK) {
        mw_log_error("%s: dkim: key %s: headers refused: %s", id, sg->sc->kt->v[k].name,
                     dkim_getresultstr(st));
        dkim_free(h);
        return NULL;
    }
    return h;
}

/* Start one signing handle for KeyTable entry k and replay the kept headers into it. */
static int
mw_dkim_signer_start(struct mw_dkim_signer *sg, size_t k, const char *fromdomain, const char *id)
{
    const struct mw_dkim_key *key = &sg->sc->kt->v[k];
    const char *d = strcmp(key->domain, "%") == 0 ? fromdomain : key->domain;
    DKIM_STAT st = DKIM_STAT_OK;
    DKIM *h;

    if ((h = mw_dkim_signer_open(sg, k, d, id)) == NULL)
        return -1;
    for (size_t off = 0; off < sg->headers.len && st == DKIM_STAT_OK;) {
        size_t n = strlen(sg->headers.data + off);
        st = dkim_header(h, (unsigned char *)sg->headers.data + off, n);
        off += n + 1;
    }
    if ((h = mw_dkim_signer_eoh_one(sg, h, k, st, id)) == NULL)
        return -1;
    sg->dkim[sg->n] = h;
    sg->key[sg->n] = k;
    sg->domain[sg->n++] = mw_strdup(d);
    return 0;
}

/*
 * Signature i again, over the message as it will leave: the final header
 * fields (mw_msg_final_header(): the header changes of earlier plugins
 * applied as Postfix applies them) and the replacement body.
 */
/* The replacement body into libopendkim, read from its spool in 64 KiB pieces. */
static DKIM_STAT
mw_dkim_signer_feed(DKIM *h, const struct mw_spool *body, const char *id)
{
    unsigned char *chunk = mw_malloc(65536);
    size_t off = 0, len = mw_spool_len(body);
    DKIM_STAT st = DKIM_STAT_OK;

    while (st == DKIM_STAT_OK && off < len) {
        ssize_t n = mw_spool_read(body, off, chunk, 65536);
        if (n <= 0) {
            mw_log_error("%s: dkim: cannot read the new body back", id);
            st = DKIM_STAT_INTERNAL;
            break;
        }
        st = dkim_body(h, chunk, (size_t)n);
        off += (size_t)n;
    }
    mw_free(&chunk);
    return st;
}

static void
mw_dkim_signer_restart(struct mw_dkim_signer *sg, size_t i, struct mw_msg *m,
                       const struct mw_spool *body)
{
    const char *id = mw_msg_queue_id(m), *name, *value;
    DKIM_STAT st = DKIM_STAT_OK;
    struct mw_buf line;
    DKIM *h;

    if (sg->dkim[i] != NULL)
        dkim_free(sg->dkim[i]);
    sg->dkim[i] = NULL;
    if (mw_msg_final_header_count(m) == 0) {
        mw_log_error("%s: dkim: the final header section is unknown (too large)", id);
        return;
    }
    if ((h = mw_dkim_signer_open(sg, sg->key[i], sg->domain[i], id)) == NULL)
        return;
    mw_buf_init(&line);
    for (size_t k = 0; st == DKIM_STAT_OK && mw_msg_final_header(m, k, &name, &value) == 0; k++) {
        mw_buf_reset(&line);
        mw_dkim_header_line(&line, name, value);
        st = dkim_header(h, (unsigned char *)line.data, line.len);
    }
    mw_buf_release(&line);
    if ((h = mw_dkim_signer_eoh_one(sg, h, sg->key[i], st, id)) == NULL)
        return;
    st = mw_dkim_signer_feed(h, body, id);
    if (st != DKIM_STAT_OK) {
        mw_log_error("%s: dkim: key %s: body refused: %s", id, sg->sc->kt->v[sg->key[i]].name,
                     dkim_getresultstr(st));
        dkim_free(h);
        return;
    }
    sg->dkim[i] = h;
}

void
mw_dkim_signer_eoh(struct mw_dkim_signer *sg, struct mw_msg *m)
{
    struct mw_dmarc_from f;
    struct mw_err err;
    size_t idx[MW_DKIM_SIG_MAX], n;
    char *local;

    if (sg->skip == NULL && sg->nfrom != 1)
        sg->skip = sg->nfrom == 0 ? "no From header" : "several From headers";
    if (sg->skip == NULL && mw_dmarc_from_parse(sg->from, strlen(sg->from), &f, &err) < 0)
        sg->skip = "unparsable From";
    if (sg->skip == NULL && (f.mailboxes != 1 || f.other[0] != '\0'))
        sg->skip = "not one address in From";
    if (sg->skip != NULL) {
        mw_msg_log_add(m, "dkim-sign=skipped (%s)", sg->skip);
        return;
    }
    local = mw_dkim_from_local(sg->from);
    n = mw_dkim_signtable_match(sg->sc->st, local, f.domain, idx, MW_DKIM_SIG_MAX);
    mw_free(&local);
    if (n == 0) {
        sg->skip = "no key";
        mw_msg_log_add(m, "dkim-sign=none:%s", f.domain);
        return;
    }
    for (size_t i = 0; i < n; i++)
        (void)mw_dkim_signer_start(sg, idx[i], f.domain, mw_msg_queue_id(m));
}

void
mw_dkim_signer_body(struct mw_dkim_signer *sg, const unsigned char *data, size_t len)
{
    for (size_t i = 0; i < sg->n; i++) {
        DKIM_STAT st;

        if (sg->dkim[i] == NULL || len == 0)
            continue;
        st = dkim_body(sg->dkim[i], (unsigned char *)data, len);
        if (st != DKIM_STAT_OK) {
            mw_log_error("dkim: key %s: body refused: %s", sg->sc->kt->v[sg->key[i]].name,
                         dkim_getresultstr(st));
            dkim_free(sg->dkim[i]);
            sg->dkim[i] = NULL;
        }
    }
}

/* libopendkim folds with CRLF + blank; libmilter wants a bare LF before the blank. */
static char *
mw_dkim_unfold_crlf(const unsigned char *hdr, size_t len)
{
    char *out = mw_malloc(len + 1);
    size_t n = 0;

    for (size_t i = 0; i < len; i++)
        if (!(hdr[i] == '\r' && i + 1 < len && hdr[i + 1] == '\n'))
            out[n++] = (char)hdr[i];
    out[n] = '\0';
    return out;
}

static void
mw_dkim_signer_finish(struct mw_dkim_signer *sg, size_t i, struct mw_msg *m)
{
    const struct mw_dkim_key *key = &sg->sc->kt->v[sg->key[i]];
    const char *alg =
        sg->sc->keys[sg->key[i]].alg == DKIM_SIGN_ED25519SHA256 ? "ed25519-sha256" : "rsa-sha256";
    unsigned char *hdr = NULL;
    size_t len = 0;
    char *value;
    DKIM_STAT st = dkim_eom(sg->dkim[i], NULL);

    if (st == DKIM_STAT_OK)
        st = dkim_getsighdr_d(sg->dkim[i], strlen("DKIM-Signature: "), &hdr, &len);
    if (st != DKIM_STAT_OK || hdr == NULL) {
        const char *why = dkim_geterror(sg->dkim[i]);
        mw_log_error("%s: dkim: signing with key %s failed: %s", mw_msg_queue_id(m), key->name,
                     why != NULL ? why : dkim_getresultstr(st));
        mw_msg_log_add(m, "dkim-sign=error:%s:%s", sg->domain[i], key->selector);
        return;
    }
    value = mw_dkim_unfold_crlf(hdr, len);
    mw_msg_header_insert(m, 0, "DKIM-Signature", value);
    mw_free(&value);
    mw_msg_log_add(m, "dkim-sign=%s:%s:%s", sg->domain[i], key->selector, alg);
}

void
mw_dkim_signer_eom(struct mw_dkim_signer *sg, struct mw_msg *m)
{
    const struct mw_spool *body = mw_msg_body_replacement(m);

    /*
     * An earlier plugin (pgp) replaced the body: what was streamed is not
     * what goes out. Sign the message as it will leave instead.
     */
    if (body != NULL)
        for (size_t i = 0; i < sg->n; i++)
            mw_dkim_signer_restart(sg, i, m, body);
    for (size_t i = 0; i < sg->n; i++)
        if (sg->dkim[i] != NULL)
            mw_dkim_signer_finish(sg, i, m);
        else
            mw_msg_log_add(m, "dkim-sign=error:%s:%s", sg->domain[i],
                           sg->sc->kt->v[sg->key[i]].selector);
}
