/*
 * sign.h - outbound DKIM signing (RFC 6376 §5, RFC 8463) for the dkim plugin.
 *
 * SYNOPSIS
 *   struct mw_dkim_signcfg *sc;
 *   mw_dkim_signcfg_load(cfg, &sc, &err);      in configure(); sc NULL: no signing
 *   struct mw_dkim_signer *sg = mw_dkim_signer_new(sc);   per outbound message
 *   mw_dkim_signer_header(sg, name, value, line, len);    each header
 *   mw_dkim_signer_eoh(sg, m); mw_dkim_signer_body(sg, data, len); ...
 *   mw_dkim_signer_eom(sg, m);                 records the DKIM-Signature headers
 *   mw_dkim_signer_free(&sg);
 *
 * DESCRIPTION
 *   A signing configuration (keys.c) is the KeyTable and SigningTable read
 *   from [dkim] key_table and signing_table, every private key read, checked
 *   (a regular file no group or other may read or write; an RSA key of at
 *   least 1024 bits or an Ed25519 key, PEM) and tried once with libopendkim,
 *   and a libopendkim library handle with the header lists. Loading fails as
 *   a whole, naming the file (and line), so a reload keeps the old one.
 *
 *   A signer (sign.c) keeps the header lines until the end of the header
 *   section (it needs the From header to choose the keys), then starts one
 *   libopendkim signing handle per matching key, replays the headers into
 *   each and streams the body chunks into each; the body is never kept. At
 *   end of message each signature is recorded as a DKIM-Signature header
 *   inserted at the top (mw_msg_header_insert(m, 0, ...)). When an earlier
 *   plugin replaced the body (pgp), the signatures are made at end of
 *   message over the final header fields (mw_msg_final_header()) and the
 *   replacement body instead.
 *
 * MEMORY / THREADS
 *   A configuration is reference counted (atomically): the plugin holds one
 *   reference, each signer another, so a reload in the middle of a message
 *   does not free what that message signs with. A signer belongs to one
 *   message (one thread).
 */
#ifndef MW_DKIM_SIGN_H
#define MW_DKIM_SIGN_H

#include <stddef.h>

#include <opendkim/dkim.h>

#include "dkim/keytable.h"
#include "mw/buf.h"
#include "mw/config.h"
#include "mw/err.h"
#include "mw/msg.h"

#define MW_DKIM_SIG_MAX 8         /* signatures per message at most */
#define MW_DKIM_KEYFILE_MAX 65536 /* bytes of a private key file */
#define MW_DKIM_TABLEFILE_MAX (16 * 1024 * 1024)
#define MW_DKIM_HEADERS_MAX (1024 * 1024) /* header bytes kept for signing */

/* sign_headers when empty: OpenDKIM's list (RFC 6376 §5.4.1), the message id and MIME headers. */
#define MW_DKIM_SIGN_HEADERS                                                                       \
    "From Reply-To Subject Date To Cc Resent-Date Resent-From Resent-Sender Resent-To "            \
    "Resent-Cc In-Reply-To References Message-ID MIME-Version Content-Type "                       \
    "Content-Transfer-Encoding List-Id List-Help List-Unsubscribe List-Subscribe List-Post "       \
    "List-Owner List-Archive"

struct mw_dkim_signkey {
    unsigned char *pem; /* the key file's text, NUL-terminated (wiped on free) */
    size_t len;
    dkim_alg_t alg; /* DKIM_SIGN_RSASHA256 or DKIM_SIGN_ED25519SHA256 */
};

struct mw_dkim_signcfg {
    int refs;
    DKIM_LIB *lib; /* signing only: sign/oversign header lists set */
    struct mw_dkim_keytable *kt;
    struct mw_dkim_signtable *st;
    struct mw_dkim_signkey *keys; /* one per KeyTable entry */
    dkim_canon_t hcanon, bcanon;
    char **signhdrs, **oversign; /* lowercased, NULL-terminated */
};

/* Load the [dkim] signing settings; *out is NULL when signing is off. */
int mw_dkim_signcfg_load(const struct mw_config *cfg, struct mw_dkim_signcfg **out,
                         struct mw_err *err);
struct mw_dkim_signcfg *mw_dkim_signcfg_ref(struct mw_dkim_signcfg *sc);
/* Drop a reference (the last one frees) and NULL the pointer. */
void mw_dkim_signcfg_unref(struct mw_dkim_signcfg **scp);
/* Check a list of header names (config check): letters, digits and '-'. */
int mw_dkim_header_names_check(const char *value, struct mw_err *err);

/* "Name: value" for libopendkim: bare LF line breaks made CRLF, no final CRLF. */
void mw_dkim_header_line(struct mw_buf *b, const char *name, const char *value);

struct mw_dkim_signer;

struct mw_dkim_signer *mw_dkim_signer_new(struct mw_dkim_signcfg *sc);
/* One header: name and value as the host gave them, line as "Name: value" (CRLF folds). */
void mw_dkim_signer_header(struct mw_dkim_signer *sg, const char *name, const char *value,
                           const char *line, size_t len);
void mw_dkim_signer_eoh(struct mw_dkim_signer *sg, struct mw_msg *m);
void mw_dkim_signer_body(struct mw_dkim_signer *sg, const unsigned char *data, size_t len);
void mw_dkim_signer_eom(struct mw_dkim_signer *sg, struct mw_msg *m);
void mw_dkim_signer_free(struct mw_dkim_signer **sgp);

#endif
