/*
 * password.h - password-encrypted messages (OpenPGP symmetric encryption).
 *
 * A sender who cannot count on the recipient having a key asks for a
 * password-encrypted message with the header field
 *
 *   Encrypt-Password: correct horse battery staple
 *
 * The milter removes the field from every message; it honours it only for
 * outbound mail from an authenticated sender (mw_pgp_password_header_ok),
 * and then replaces the message's MIME entity by the one
 * mw_pgp_password_wrap() makes: multipart/mixed with a short text/plain
 * explanation and the whole original message, encrypted with the password
 * (AES-256, iterated and salted S2K), as the attachment message.eml.pgp.
 * The recipient opens it with any OpenPGP program (gpg --decrypt, rnp -d).
 *
 * The password is never logged, stored or written to a file: it reaches gpg
 * through loopback pinentry, gpg-agent is told not to cache it
 * (no-symkey-cache), and the copies made here are wiped.
 */
#ifndef MW_PGP_PASSWORD_H
#define MW_PGP_PASSWORD_H

#include <stddef.h>

#include <gpgme.h>

#include "mw/buf.h"
#include "mw/err.h"

/* The header field's name, and the attachment's file name. */
#define MW_PGP_PASSWORD_HEADER "Encrypt-Password"
#define MW_PGP_PASSWORD_FILENAME "message.eml.pgp"
/* Longest password accepted (bytes). */
#define MW_PGP_PASSWORD_MAX 256

/* The explanation used when the caller gives none (plain ASCII). */
extern const char mw_pgp_password_explanation[];

/*
 * Encrypt msg (the whole original message, header section and body, CRLF)
 * with password and write the replacement top-level MIME entity to out:
 * its Content-Type (multipart/mixed, with boundary) header line, an empty
 * line and the body, CRLF line ends. The caller replaces the message's
 * Content-* header fields and body with it and sets MIME-Version: 1.0.
 *
 * ctx is any OpenPGP context whose GnuPG home's gpg.conf says
 * "s2k-cipher-algo AES256" (the keystore writes it); its armor, text mode,
 * pinentry mode and passphrase callback are restored before returning. The
 * result is checked: anything but AES-256 with S2K mode 3 fails, nothing is
 * sent half-protected. explanation NULL = mw_pgp_password_explanation.
 * GMime must be initialised (g_mime_init). Not thread-safe per ctx.
 */
int mw_pgp_password_wrap(gpgme_ctx_t ctx, const char *msg, size_t len, const char *password,
                         const char *explanation, struct mw_buf *out, struct mw_err *err);

/*
 * Check the encrypted OpenPGP data: it must start with a symmetric-key
 * session key packet (v4) saying AES-256 and iterated+salted S2K. 0 or -1.
 */
int mw_pgp_password_check_packet(const unsigned char *data, size_t len, struct mw_err *err);

/*
 * May an Encrypt-Password field be honoured? Only on outbound mail
 * (outbound != 0) whose sender authenticated (auth_user not NULL or empty).
 * Otherwise the milter removes the field, ignores it and logs that it did
 * (never the value).
 */
int mw_pgp_password_header_ok(int outbound, const char *auth_user);

/*
 * The password from the field's raw value (as the milter receives it,
 * possibly folded): unfolded, blanks around it removed. Refused: empty,
 * longer than MW_PGP_PASSWORD_MAX, control characters or NUL. The caller
 * wipes out (mw_wipe(out, MW_PGP_PASSWORD_MAX + 1)) after use.
 */
int mw_pgp_password_from_header(const char *value, size_t len, char out[MW_PGP_PASSWORD_MAX + 1],
                                struct mw_err *err);

#endif
