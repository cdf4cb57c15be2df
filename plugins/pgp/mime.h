/*
 * mime.h - the pgp plugin's MIME work (GMime 3): what a message is, the
 * entity to encrypt or sign, and the RFC 3156 bodies around the result.
 *
 * The entity is the original message's MIME part: its Content-* header
 * fields and body, attachments included. For encryption the message's
 * other header fields go inside as well (RFC 9788 header protection: the
 * part's Content-Type gets hp="cipher" and, for older readers,
 * protected-headers="v1"; one HP-Outer field records each outer field).
 * A signed entity carries the header fields too, with hp="clear" and no
 * HP-Outer (RFC 9788), unless one of them is not 7 bit. For signing the entity is first re-encoded
 * to 7 bit (quoted-printable or base64 for 8-bit and binary parts, RFC 3156 §3) and written with
 * CRLF.
 */
#ifndef MW_PGP_MIME_H
#define MW_PGP_MIME_H

#include <stddef.h>

#include "mw/buf.h"
#include "mw/err.h"
#include "mw/spool.h"

void mw_pgp_mime_init(void);
void mw_pgp_mime_fini(void);

/*
 * Whether the message (header section CRLF CRLF body) is already encrypted:
 * multipart/encrypted, application/pkcs7-mime (S/MIME), or an inline
 * "-----BEGIN PGP MESSAGE-----" line anywhere in the body.
 */
int mw_pgp_mime_is_encrypted(const char *msg, size_t len);

/*
 * The entity to protect, CRLF lines, into out. hp "cipher": encryption
 * (RFC 9788 header protection with the non-Content header lines given in
 * hp_headers, already "Name: value\r\n" text, which also carries the
 * HP-Outer lines); "clear": signing with header protection (hp_headers
 * without HP-Outer, 7-bit re-encoding); NULL: signing without it.
 */
int mw_pgp_mime_entity(const char *msg, size_t len, const char *hp, const char *hp_headers,
                       struct mw_buf *out, struct mw_err *err);

/*
 * The same for a collected message in a spool: a spooled one is parsed from
 * its temp file without loading it (a persistent GMime stream), scanned for
 * inline armor 64 KiB at a time. mw_pgp_mime_is_encrypted_spool: -1 on a
 * read error. mw_pgp_mime_cipher_entity: hp "cipher" into out, which is
 * written as a temp file when raw is one (out's spool dir), else in memory.
 */
int mw_pgp_mime_is_encrypted_spool(const struct mw_spool *raw);
int mw_pgp_mime_cipher_entity(const struct mw_spool *raw, const char *hp_headers,
                              struct mw_spool *out, struct mw_err *err);

/* A fresh random MIME boundary into b (NUL-terminated, < size). */
void mw_pgp_mime_boundary(char *b, size_t size);

/*
 * RFC 3156 §4 body around an armored ciphertext (GnuPG's LF lines become
 * CRLF), appended to body piece by piece; ctype gets the Content-Type
 * value. -1 when a spool failed (mw_spool_error() of body says why).
 */
int mw_pgp_mime_encrypted(const char *boundary, const struct mw_spool *cipher,
                          struct mw_spool *body, struct mw_buf *ctype);
/* RFC 3156 §5 body: the signed entity and its armored signature. */
void mw_pgp_mime_signed(const char *boundary, const struct mw_buf *entity, const struct mw_buf *sig,
                        const char *micalg, struct mw_buf *body, struct mw_buf *ctype);

/* The first mailbox address of a From header value into out; -1 if none fits. */
int mw_pgp_mime_from_addr(const char *value, char *out, size_t size);
#endif
