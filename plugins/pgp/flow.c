/*
 * flow.c - the pgp plugin's end-of-message work (see flow.h and pgp.c).
 *
 * Nothing reaches the recipients in clear that policy wants encrypted:
 * every failure on the way (no key where one is required, GnuPG or GMime
 * errors, a failed re-injection) ends in a refusal of the whole message.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "flow.h"
#include "gpg.h"
#include "mime.h"
#include "mw/alloc.h"
#include "mw/log.h"
#include "reinject.h"

static char mw_pgp_token[33];

struct mw_pgp_job {
    const struct mw_pgp_settings *s;
    struct mw_pgp_msg *pm;
    struct mw_msg *m;
    gpgme_ctx_t ctx;
    gpgme_key_t *keys;  /* NULL-terminated: the recipients' encryption keys */
    const char **krcpt; /* krcpt[i]: the recipient of keys[i] */
    size_t nkeys;
    const char **clear; /* recipients that get clear text */
    size_t nclear;
    gpgme_key_t signer;    /* NULL: no signature */
    struct mw_spool rawsp; /* the whole original message, spooled */
    struct mw_buf raw;     /* the same in memory, loaded for signing and the clear copy */
    int raw_loaded;
    int spool_failed; /* err is a temp-file failure (tempfail 4.3.0), not GnuPG's */
    struct mw_err err;
};

void
mw_pgp_guard_init(void)
{
    unsigned char r[16];

    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
        mw_log_fatal(1, "pgp: getrandom failed");
    for (size_t i = 0; i < sizeof(r); i++)
        snprintf(mw_pgp_token + 2 * i, 3, "%02x", r[i]);
}

void
mw_pgp_msg_header(struct mw_pgp_msg *pm, const struct mw_pgp_settings *s, const char *name,
                  const char *value)
{
    size_t add = strlen(name) + strlen(value) + 4;

    if (pm->too_big)
        return;
    if (pm->size + add > s->max_size) {
        pm->too_big = 1;
        return;
    }
    if (strcasecmp(name, MW_PGP_GUARD) == 0 && strcmp(value, mw_pgp_token) == 0)
        pm->reinjected = 1;
    if (pm->nhdrs == pm->cap) {
        pm->cap = pm->cap ? pm->cap * 2 : 32;
        pm->hdrs = mw_reallocarray(pm->hdrs, pm->cap, sizeof(*pm->hdrs));
    }
    pm->hdrs[pm->nhdrs].name = mw_strdup(name);
    pm->hdrs[pm->nhdrs].value = mw_strdup(value);
    pm->nhdrs++;
    pm->size += add;
}

void
mw_pgp_msg_free(struct mw_pgp_msg **pmp)
{
    struct mw_pgp_msg *pm = *pmp;

    if (pm == NULL)
        return;
    for (size_t i = 0; i < pm->nhdrs; i++) {
        mw_free(&pm->hdrs[i].name);
        mw_free(&pm->hdrs[i].value);
    }
    mw_free(&pm->hdrs);
    mw_spool_release(&pm->body);
    mw_wipe(pm->password, sizeof(pm->password));
    mw_free(pmp);
}

/* A header value and CRLF, the MTA's bare-LF folds made CRLF. */
static void
mw_pgp_put_value(struct mw_buf *b, const char *value)
{
    for (const char *p = value; *p; p++) {
        if (*p == '\n' && (p == value || p[-1] != '\r'))
            mw_buf_putc(b, '\r');
        mw_buf_putc(b, *p);
    }
    mw_buf_puts(b, "\r\n");
}

static void
mw_pgp_put_header(struct mw_buf *b, const char *name, const char *value)
{
    mw_buf_printf(b, "%s: ", name);
    mw_pgp_put_value(b, value);
}

static int
mw_pgp_is_content(const char *name)
{
    return strncasecmp(name, "Content-", 8) == 0;
}

/* Structural, trace or blind fields: not copied into the protected header section. */
static int
mw_pgp_not_protected(const char *name)
{
    return mw_pgp_is_content(name) || strcasecmp(name, "MIME-Version") == 0 ||
           strcasecmp(name, "Bcc") == 0 || strcasecmp(name, "Received") == 0 ||
           strcasecmp(name, "Return-Path") == 0 || strcasecmp(name, MW_PGP_GUARD) == 0;
}

static const char *
mw_pgp_find_header(const struct mw_pgp_msg *pm, const char *name)
{
    for (size_t i = 0; i < pm->nhdrs; i++)
        if (strcasecmp(pm->hdrs[i].name, name) == 0)
            return pm->hdrs[i].value;
    return NULL;
}

/* Refuse the message: a missing key follows missing_key_action, anything else tempfails. */
static enum mw_verdict mw_pgp_fail(struct mw_pgp_job *j, int missing, const char *reason,
                                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum mw_verdict
mw_pgp_fail(struct mw_pgp_job *j, int missing, const char *reason, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    int reject = missing && j->s->reject_missing;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    mw_msg_set_reply(j->m, reject ? "550" : "451", reject ? "5.7.1" : "4.7.1", "%s", text);
    mw_msg_log_add(j->m, "pgp=%s:%s", reject ? "reject" : "tempfail", reason);
    mw_log_warn("%s: pgp: %s", mw_msg_queue_id(j->m), text);
    return reject ? MW_REJECT : MW_TEMPFAIL;
}

/* Sort each recipient into keys[] or clear[]; -1 after mw_pgp_fail's reply. */
static int
mw_pgp_classify(struct mw_pgp_job *j, enum mw_verdict *v)
{
    size_t n = mw_msg_rcpt_count(j->m), nask = 0;
    const char **ask = mw_calloc(n + 1, sizeof(*ask));
    gpgme_key_t *found = mw_calloc(n + 1, sizeof(*found));
    int *mode = mw_calloc(n + 1, sizeof(*mode)), rc = 0;

    j->keys = mw_calloc(n + 1, sizeof(*j->keys));
    j->krcpt = mw_calloc(n + 1, sizeof(*j->krcpt));
    j->clear = mw_calloc(n + 1, sizeof(*j->clear));
    for (size_t i = 0; i < n; i++) {
        mode[i] = mw_pgp_table_lookup(j->s->table, mw_msg_rcpt(j->m, i));
        if (mode[i] < 0)
            mode[i] = (int)j->s->encrypt;
        if (mode[i] != MW_PGP_NEVER)
            ask[nask++] = mw_msg_rcpt(j->m, i);
    }
    if (nask > 0 && mw_pgp_gpg_find_many(j->ctx, j->s->home, ask, nask, found, &j->err) < 0) {
        *v = mw_pgp_fail(j, 0, "gnupg", "cannot look up OpenPGP keys: %s", j->err.text);
        rc = -1;
    }
    for (size_t i = 0, a = 0; rc == 0 && i < n; i++) {
        const char *r = mw_msg_rcpt(j->m, i);
        gpgme_key_t k = mode[i] != MW_PGP_NEVER ? found[a++] : NULL;

        if (k == NULL && mode[i] == MW_PGP_ALWAYS) {
            *v = mw_pgp_fail(j, 1, "no-key",
                             "no usable OpenPGP key for <%s>; policy requires encryption", r);
            rc = -1;
        } else if (k != NULL) {
            j->krcpt[j->nkeys] = r;
            j->keys[j->nkeys++] = k;
        } else {
            j->clear[j->nclear++] = r;
        }
    }
    /* Keys not moved to j->keys (after a refusal) are released here. */
    for (size_t a = 0; a < nask; a++) {
        int kept = 0;
        for (size_t i = 0; i < j->nkeys; i++)
            kept |= j->keys[i] == found[a];
        if (!kept)
            gpgme_key_unref(found[a]);
    }
    mw_free(&ask);
    mw_free(&found);
    mw_free(&mode);
    return rc;
}

/* The signing key of the From: address (else MAIL FROM); -1 after a refusal. */
static int
mw_pgp_find_signer(struct mw_pgp_job *j, enum mw_verdict *v)
{
    char addr[321];
    const char *from = mw_pgp_find_header(j->pm, "From");
    int rc;

    if (j->s->sign == MW_PGP_NEVER)
        return 0;
    if (from == NULL || mw_pgp_mime_from_addr(from, addr, sizeof(addr)) < 0)
        snprintf(addr, sizeof(addr), "%s", mw_msg_mail_from(j->m));
    if ((rc = mw_pgp_gpg_signer(j->ctx, j->s->home, addr, &j->signer, &j->err)) < 0) {
        *v = mw_pgp_fail(j, 0, "gnupg", "cannot look up the signing key of %s: %s", addr,
                         j->err.text);
        return -1;
    }
    if (rc == 0 && j->s->sign == MW_PGP_ALWAYS) {
        *v = mw_pgp_fail(j, 1, "no-signing-key", "no usable OpenPGP signing key for <%s>", addr);
        return -1;
    }
    return 0;
}

/* Record the new top-level header: Content-* replaced by ctype, Subject maybe replaced. */
void
mw_pgp_apply_headers(struct mw_msg *m, const struct mw_pgp_msg *pm, const char *ctype,
                     const char *subject)
{
    size_t nsubj = 0;

    /* Highest index first, so a deletion never moves one still to delete. */
    for (size_t i = pm->nhdrs; i-- > 0;) {
        size_t idx = 0;
        if (!mw_pgp_is_content(pm->hdrs[i].name))
            continue;
        for (size_t k = 0; k <= i; k++)
            idx += strcasecmp(pm->hdrs[k].name, pm->hdrs[i].name) == 0;
        mw_msg_header_delete(m, pm->hdrs[i].name, idx);
    }
    if (mw_pgp_find_header(pm, "MIME-Version") == NULL)
        mw_msg_header_add(m, "MIME-Version", "1.0");
    mw_msg_header_add(m, "Content-Type", ctype);
    if (subject == NULL)
        return;
    /* Every Subject field goes: the first is replaced, the others deleted (last first). */
    for (size_t i = 0; i < pm->nhdrs; i++)
        nsubj += strcasecmp(pm->hdrs[i].name, "Subject") == 0;
    while (nsubj > 1)
        mw_msg_header_delete(m, "Subject", nsubj--);
    if (nsubj == 1)
        mw_msg_header_change(m, "Subject", 1, subject);
}

/*
 * The RFC 9788 header section of the protected entity: the non-structural
 * fields, and with outer one HP-Outer per such field as it appears outside
 * (the Subject replaced by outer_subject). 0 when it is all 7 bit.
 */
static int
mw_pgp_hp_headers(const struct mw_pgp_job *j, int outer, struct mw_buf *hp)
{
    for (size_t i = 0; i < j->pm->nhdrs; i++)
        if (!mw_pgp_not_protected(j->pm->hdrs[i].name))
            mw_pgp_put_header(hp, j->pm->hdrs[i].name, j->pm->hdrs[i].value);
    for (size_t i = 0; outer && i < j->pm->nhdrs; i++) {
        const char *name = j->pm->hdrs[i].name, *value = j->pm->hdrs[i].value;
        if (mw_pgp_not_protected(name))
            continue;
        mw_buf_printf(hp, "HP-Outer: %s: ", name);
        mw_pgp_put_value(hp, strcasecmp(name, "Subject") == 0 ? j->s->outer_subject : value);
    }
    for (size_t i = 0; i < hp->len; i++)
        if ((unsigned char)hp->data[i] > 127)
            return -1;
    return 0;
}

/* The whole message in j->raw: signing and the clear copy work on it in memory. */
static int
mw_pgp_raw_mem(struct mw_pgp_job *j)
{
    if (j->raw_loaded)
        return 0;
    if (mw_spool_load(&j->rawsp, &j->raw, &j->err) < 0)
        return -1;
    j->raw_loaded = 1;
    return 0;
}

/*
 * The multipart/signed body and its Content-Type. The signed entity
 * carries the header fields (hp="clear"), unless one is 8 bit: the signed
 * part must be 7 bit (RFC 3156 §3), so then it goes without them.
 */
static int
mw_pgp_make_signed(struct mw_pgp_job *j, struct mw_buf *body, struct mw_buf *ctype)
{
    struct mw_buf hp, entity, sig;
    char micalg[64], boundary[64];
    int rc = -1, hp7;

    mw_buf_init(&hp);
    mw_buf_init(&entity);
    mw_buf_init(&sig);
    hp7 = mw_pgp_hp_headers(j, 0, &hp) == 0;
    if (mw_pgp_raw_mem(j) == 0 &&
        mw_pgp_mime_entity(j->raw.data, j->raw.len, hp7 ? "clear" : NULL, hp.data, &entity,
                           &j->err) == 0 &&
        mw_pgp_gpg_sign(j->ctx, j->signer, entity.data, entity.len, &sig, micalg, sizeof(micalg),
                        &j->err) == 0) {
        mw_pgp_mime_boundary(boundary, sizeof(boundary));
        mw_pgp_mime_signed(boundary, &entity, &sig, micalg, body, ctype);
        rc = 0;
    }
    mw_buf_release(&hp);
    mw_buf_release(&entity);
    mw_buf_release(&sig);
    return rc;
}

/*
 * The entity to encrypt: the original MIME entity with the RFC 9788 header
 * section; a temp file when the message is one (GnuPG reads it from there).
 */
static int
mw_pgp_protected_entity(struct mw_pgp_job *j, struct mw_spool *entity)
{
    struct mw_buf hp;
    int rc;

    mw_buf_init(&hp);
    mw_pgp_hp_headers(j, 1, &hp); /* 8 bit is fine inside the ciphertext */
    rc = mw_pgp_mime_cipher_entity(&j->rawsp, hp.data, entity, &j->err);
    mw_buf_release(&hp);
    return rc;
}

/*
 * The multipart/encrypted body for the NULL-terminated keys, and its
 * Content-Type. The ciphertext and the body are spools: past memory_limit
 * they live in temp files, never whole in memory.
 */
static int
mw_pgp_encrypt_to(struct mw_pgp_job *j, const struct mw_spool *entity, gpgme_key_t *keys, int hide,
                  struct mw_spool *body, struct mw_buf *ctype)
{
    struct mw_spool cipher;
    char boundary[64];
    int rc = -1;

    mw_spool_init(&cipher, j->s->spool_dir, j->s->memory_limit);
    if (mw_pgp_gpg_encrypt(j->ctx, keys, j->signer, hide, entity, &cipher, &j->err) == 0) {
        mw_pgp_mime_boundary(boundary, sizeof(boundary));
        if ((rc = mw_pgp_mime_encrypted(boundary, &cipher, body, ctype)) < 0)
            mw_err_set(&j->err, "%s", mw_spool_error(body));
    }
    if (mw_spool_error(&cipher) != NULL || mw_spool_error(body) != NULL)
        j->spool_failed = 1;
    mw_spool_release(&cipher);
    return rc;
}

/*
 * The header section of a message to re-inject: the loop guard, the
 * original header fields but Content-* (every Subject replaced by one with
 * subject, unless NULL), MIME-Version, ctype, the empty line; the caller
 * appends the body.
 */
static void
mw_pgp_outer_head(const struct mw_pgp_job *j, const char *ctype, const char *subject,
                  struct mw_buf *msg)
{
    int nsubj = 0;

    mw_pgp_put_header(msg, MW_PGP_GUARD, mw_pgp_token);
    for (size_t i = 0; i < j->pm->nhdrs; i++) {
        const char *name = j->pm->hdrs[i].name;
        if (mw_pgp_is_content(name) || strcasecmp(name, MW_PGP_GUARD) == 0)
            continue;
        if (subject != NULL && strcasecmp(name, "Subject") == 0) {
            if (nsubj++ == 0)
                mw_pgp_put_header(msg, name, subject);
            continue;
        }
        mw_pgp_put_header(msg, name, j->pm->hdrs[i].value);
    }
    if (mw_pgp_find_header(j->pm, "MIME-Version") == NULL)
        mw_buf_puts(msg, "MIME-Version: 1.0\r\n");
    mw_pgp_put_header(msg, "Content-Type", ctype);
    mw_buf_puts(msg, "\r\n");
}

/* The clear copy for the recipients without a key (signed when a signer is set) into msg. */
static int
mw_pgp_clear_copy(struct mw_pgp_job *j, struct mw_buf *msg)
{
    struct mw_buf body, ctype;
    int rc = 0;

    if (j->signer == NULL) {
        if (mw_pgp_raw_mem(j) < 0)
            return -1;
        mw_pgp_put_header(msg, MW_PGP_GUARD, mw_pgp_token);
        mw_buf_append(msg, j->raw.data, j->raw.len);
        return 0;
    }
    mw_buf_init(&body);
    mw_buf_init(&ctype);
    if ((rc = mw_pgp_make_signed(j, &body, &ctype)) == 0) {
        mw_pgp_outer_head(j, ctype.data, NULL, msg);
        mw_buf_append(msg, body.data, body.len);
    }
    mw_buf_release(&body);
    mw_buf_release(&ctype);
    return rc;
}

/* No key holder among the recipients: sign for everyone, or leave the message alone. */
static enum mw_verdict
mw_pgp_sign_only(struct mw_pgp_job *j)
{
    struct mw_buf body, ctype;
    enum mw_verdict v = MW_CONTINUE;

    if (j->signer == NULL) {
        mw_msg_log_add(j->m, "pgp=skipped:no-key");
        return MW_CONTINUE;
    }
    mw_buf_init(&body);
    mw_buf_init(&ctype);
    if (mw_pgp_make_signed(j, &body, &ctype) < 0) {
        v = mw_pgp_fail(j, 0, "gnupg", "cannot sign the message: %s", j->err.text);
    } else {
        mw_msg_body_replace(j->m, body.data, body.len);
        mw_pgp_apply_headers(j->m, j->pm, ctype.data, NULL);
        mw_msg_log_add(j->m, "pgp=signed");
    }
    mw_buf_release(&body);
    mw_buf_release(&ctype);
    return v;
}

/*
 * What leaves by re-injection: copies[0] the clear copy (when nclear > 0),
 * then one ciphertext per key holder 1..nkeys-1 when per (bcc_privacy =
 * per-recipient). Every copy is made before any is sent, so a GnuPG
 * failure sends nothing.
 */
struct mw_pgp_out {
    struct mw_buf *copies;
    const char **to; /* copies[k] goes to to[k] ... to[k + nto[k] - 1] */
    size_t *first, *nto, n;
};

static int
mw_pgp_make_copies(struct mw_pgp_job *j, const struct mw_spool *entity, int per,
                   struct mw_pgp_out *o)
{
    size_t max = j->nkeys + 1;

    o->copies = mw_calloc(max, sizeof(*o->copies));
    o->first = mw_calloc(max, sizeof(*o->first));
    o->nto = mw_calloc(max, sizeof(*o->nto));
    o->to = mw_calloc(j->nclear + j->nkeys + 1, sizeof(*o->to));
    if (j->nclear > 0) {
        mw_buf_init(&o->copies[0]);
        o->n = 1;
        o->nto[0] = j->nclear;
        memcpy(o->to, j->clear, j->nclear * sizeof(*o->to));
        if (mw_pgp_clear_copy(j, &o->copies[0]) < 0)
            return -1;
    }
    for (size_t i = 1; per && i < j->nkeys; i++) {
        gpgme_key_t one[2] = {j->keys[i], NULL};
        struct mw_spool body;
        struct mw_buf ctype;
        size_t k = o->n++;
        int rc;

        mw_buf_init(&o->copies[k]);
        mw_spool_init(&body, j->s->spool_dir, j->s->memory_limit);
        mw_buf_init(&ctype);
        o->first[k] = j->nclear + i - 1;
        o->nto[k] = 1;
        o->to[o->first[k]] = j->krcpt[i];
        /* A re-injected copy goes to libcurl whole, from memory. */
        if ((rc = mw_pgp_encrypt_to(j, entity, one, 0, &body, &ctype)) == 0) {
            mw_pgp_outer_head(j, ctype.data, j->s->outer_subject, &o->copies[k]);
            if ((rc = mw_spool_load(&body, &o->copies[k], &j->err)) < 0)
                j->spool_failed = 1;
        }
        mw_spool_release(&body);
        mw_buf_release(&ctype);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/*
 * Send every copy, in order. A failure stops here and the caller tempfails
 * the whole message: the copies already sent stay sent, and the client's
 * retry sends them again. A duplicate, never a loss (see reinject.h).
 */
static int
mw_pgp_send_copies(struct mw_pgp_job *j, const struct mw_pgp_out *o)
{
    for (size_t k = 0; k < o->n; k++) {
        if (mw_pgp_reinject(j->s->reinject, mw_msg_mail_from(j->m), o->to + o->first[k], o->nto[k],
                            o->copies[k].data, o->copies[k].len, &j->err) < 0) {
            if (k > 0)
                mw_log_warn("%s: pgp: %zu of %zu re-injected copies were sent before the "
                            "failure; the retry will send them again",
                            mw_msg_queue_id(j->m), k, o->n);
            return -1;
        }
    }
    return 0;
}

static void
mw_pgp_out_free(struct mw_pgp_out *o)
{
    for (size_t k = 0; k < o->n; k++)
        mw_buf_release(&o->copies[k]);
    mw_free(&o->copies);
    mw_free(&o->first);
    mw_free(&o->nto);
    mw_free(&o->to);
}

/* The transaction keeps the first key holder (or all, unless per); the rest leave re-injected. */
static void
mw_pgp_apply_encrypted(struct mw_pgp_job *j, int per, struct mw_spool *body,
                       const struct mw_buf *ctype)
{
    const char *bcc = j->nkeys < 2       ? ""
                      : per              ? ",per-recipient"
                      : j->s->bcc == 'o' ? ",keyids-visible"
                                         : ",hidden-keyids";
    char clear[48] = "";

    for (size_t i = 0; i < j->nclear; i++)
        mw_msg_rcpt_delete(j->m, j->clear[i]);
    for (size_t i = 1; per && i < j->nkeys; i++)
        mw_msg_rcpt_delete(j->m, j->krcpt[i]);
    mw_msg_body_replace_spool(j->m, body);
    mw_pgp_apply_headers(j->m, j->pm, ctype->data, j->s->outer_subject);
    if (j->nclear > 0)
        snprintf(clear, sizeof(clear), ",reinjected:%zu", j->nclear);
    mw_msg_log_add(j->m, "pgp=encrypted:%zu%s%s%s", j->nkeys, j->signer ? ",signed" : "", bcc,
                   clear);
}

/*
 * Key holders get ciphertext: one copy to all of them (bcc_privacy
 * hidden-keyids or off), or one per key holder (per-recipient), the first
 * in this transaction and the others re-injected. Recipients without a key
 * get a clear copy through reinject.
 */
static enum mw_verdict
mw_pgp_encrypt(struct mw_pgp_job *j)
{
    struct mw_spool entity, body;
    struct mw_buf ctype;
    struct mw_pgp_out out = {0};
    enum mw_verdict v = MW_CONTINUE;
    int per = j->s->bcc == 'p' && j->nkeys > 1, hide = j->s->bcc == 'h';
    gpgme_key_t first[2] = {j->keys[0], NULL};

    if (j->nclear > 0 && *j->s->reinject == '\0')
        return mw_pgp_fail(j, 1, "mixed",
                           "%zu recipient(s) have an OpenPGP key and %zu not; "
                           "send to them separately",
                           j->nkeys, j->nclear);
    if (per && *j->s->reinject == '\0')
        per = 0, hide = 1; /* no way to send the other copies: hide the key ids instead */
    mw_spool_init(&entity, j->s->spool_dir, j->s->memory_limit);
    mw_spool_init(&body, j->s->spool_dir, j->s->memory_limit);
    mw_buf_init(&ctype);
    if (mw_pgp_protected_entity(j, &entity) < 0 ||
        mw_pgp_encrypt_to(j, &entity, per ? first : j->keys, hide, &body, &ctype) < 0 ||
        mw_pgp_make_copies(j, &entity, per, &out) < 0)
        v = mw_spool_error(&entity) != NULL ? mw_pgp_spool_fail(j->m, mw_spool_error(&entity))
            : j->spool_failed
                ? mw_pgp_spool_fail(j->m, j->err.text)
                : mw_pgp_fail(j, 0, "gnupg", "cannot encrypt the message: %s", j->err.text);
    else if (mw_pgp_send_copies(j, &out) < 0)
        v = mw_pgp_fail(j, 0, "reinject", "cannot re-inject a copy: %s", j->err.text);
    else
        mw_pgp_apply_encrypted(j, per, &body, &ctype);
    mw_pgp_out_free(&out);
    mw_spool_release(&entity);
    mw_spool_release(&body);
    mw_buf_release(&ctype);
    return v;
}

/* Over max_size: pass only when no recipient's policy is always. */
static enum mw_verdict
mw_pgp_too_big(struct mw_pgp_job *j)
{
    int always = j->s->encrypt == MW_PGP_ALWAYS || j->s->sign == MW_PGP_ALWAYS;

    for (size_t i = 0; i < mw_msg_rcpt_count(j->m); i++)
        always |= mw_pgp_table_lookup(j->s->table, mw_msg_rcpt(j->m, i)) == MW_PGP_ALWAYS;
    if (j->s->too_big == 'p' && !always) {
        mw_msg_log_add(j->m, "pgp=skipped:too-big");
        return MW_CONTINUE;
    }
    if (j->s->too_big == 'r') {
        mw_msg_set_reply(j->m, "552", "5.3.4",
                         "message too big to encrypt or sign (over %zu bytes)", j->s->max_size);
        mw_msg_log_add(j->m, "pgp=reject:too-big");
        return MW_REJECT;
    }
    mw_msg_set_reply(j->m, "451", "4.3.4", "message too big to encrypt or sign (over %zu bytes)",
                     j->s->max_size);
    mw_msg_log_add(j->m, "pgp=tempfail:too-big");
    return MW_TEMPFAIL;
}

int
mw_pgp_msg_raw(const struct mw_pgp_msg *pm, struct mw_buf *raw, struct mw_err *err)
{
    if (mw_spool_error(&pm->body) != NULL)
        return mw_err_set(err, "%s", mw_spool_error(&pm->body));
    for (size_t i = 0; i < pm->nhdrs; i++)
        mw_pgp_put_header(raw, pm->hdrs[i].name, pm->hdrs[i].value);
    mw_buf_puts(raw, "\r\n");
    /* Whole in memory from here on: the password flow works on raw. */
    return mw_spool_load(&pm->body, raw, err);
}

/* The same into a spool (a temp file past memory_limit), never whole in memory. */
static int
mw_pgp_msg_spool(const struct mw_pgp_msg *pm, struct mw_spool *raw, struct mw_err *err)
{
    struct mw_buf head;
    int rc;

    if (mw_spool_error(&pm->body) != NULL)
        return mw_err_set(err, "%s", mw_spool_error(&pm->body));
    mw_buf_init(&head);
    for (size_t i = 0; i < pm->nhdrs; i++)
        mw_pgp_put_header(&head, pm->hdrs[i].name, pm->hdrs[i].value);
    mw_buf_puts(&head, "\r\n");
    rc = mw_spool_append(raw, head.data, head.len);
    mw_buf_release(&head);
    if (rc == 0)
        rc = mw_spool_copy(raw, &pm->body);
    return rc < 0 ? mw_err_set(err, "%s", mw_spool_error(raw)) : 0;
}

enum mw_verdict
mw_pgp_spool_fail(struct mw_msg *m, const char *why)
{
    mw_msg_set_reply(m, "451", "4.3.0", "cannot keep the message to encrypt or sign it");
    mw_msg_log_add(m, "pgp=tempfail:spool");
    mw_log_warn("%s: pgp: cannot keep the message to encrypt or sign it: %s", mw_msg_queue_id(m),
                why);
    return MW_TEMPFAIL;
}

static enum mw_verdict
mw_pgp_run(struct mw_pgp_job *j)
{
    struct mw_pgp_gpg_conf conf = {j->s->home, j->s->passphrase};
    enum mw_verdict v = MW_CONTINUE;
    int enc;

    if (mw_pgp_msg_spool(j->pm, &j->rawsp, &j->err) < 0 ||
        (enc = mw_pgp_mime_is_encrypted_spool(&j->rawsp)) < 0)
        return mw_pgp_spool_fail(j->m, *j->err.text ? j->err.text : "cannot read the temp file");
    if (enc) {
        mw_msg_log_add(j->m, "pgp=skipped:encrypted");
        return MW_CONTINUE;
    }
    if ((j->ctx = mw_pgp_gpg_ctx(&conf, &j->err)) == NULL)
        return mw_pgp_fail(j, 0, "gnupg", "GnuPG is unusable: %s", j->err.text);
    if (mw_pgp_classify(j, &v) < 0 || mw_pgp_find_signer(j, &v) < 0)
        return v;
    if (j->nkeys == 0)
        return mw_pgp_sign_only(j);
    return mw_pgp_encrypt(j);
}

enum mw_verdict
mw_pgp_flow(const struct mw_pgp_settings *s, struct mw_pgp_msg *pm, struct mw_msg *m)
{
    struct mw_pgp_job j = {.s = s, .pm = pm, .m = m};
    enum mw_verdict v;

    if (pm->reinjected) {
        /* Our own copy back through a port that runs the milter (for DKIM
         * signing): pass it, and the guard's token never leaves the host. */
        mw_msg_header_delete(m, MW_PGP_GUARD, 1);
        mw_msg_log_add(m, "pgp=skipped:reinjected");
        return MW_CONTINUE;
    }
    if (s->encrypt == MW_PGP_NEVER && s->sign == MW_PGP_NEVER && mw_pgp_table_size(s->table) == 0) {
        mw_msg_log_add(m, "pgp=skipped:disabled");
        return MW_CONTINUE;
    }
    if (pm->too_big)
        return mw_pgp_too_big(&j);
    mw_buf_init(&j.raw);
    mw_spool_init(&j.rawsp, s->spool_dir, s->memory_limit);
    v = mw_pgp_run(&j);
    for (size_t i = 0; i < j.nkeys; i++)
        gpgme_key_unref(j.keys[i]);
    gpgme_key_unref(j.signer);
    mw_free(&j.keys);
    mw_free(&j.krcpt);
    mw_free(&j.clear);
    mw_buf_release(&j.raw);
    mw_spool_release(&j.rawsp);
    return v;
}
