/*
 * gpg.h - the pgp plugin's use of GPGME: one context per thread, key
 * look-up by address, encryption and signing.
 *
 * mw_pgp_gpg_init() runs once in the host thread before any worker thread
 * (gpgme_check_version). Each libmilter worker thread gets its own GPGME
 * context on first use, kept in a pthread key and reused for every message
 * of that thread; it is released when the thread ends. A context follows
 * the current settings: when gnupg_home changes (reload) it is re-pointed.
 * Keys are trusted because the administrator put them into gnupg_home
 * (GPGME_ENCRYPT_ALWAYS_TRUST). With [pgp] bcc_privacy = hidden-keyids
 * the recipients' key ids are hidden (GPGME_ENCRYPT_THROW_KEYIDS) so no
 * recipient learns another from a ciphertext encrypted to several keys;
 * per-recipient (flow.c) encrypts to one key per ciphertext instead.
 */
#ifndef MW_PGP_GPG_H
#define MW_PGP_GPG_H

#include <stddef.h>

#include <gpgme.h>

#include "mw/buf.h"
#include "mw/err.h"
#include "mw/spool.h"

struct mw_pgp_gpg_conf {
    const char *home;       /* GnuPG home */
    const char *passphrase; /* for secret keys (loopback pinentry); "" if none */
};

int mw_pgp_gpg_init(struct mw_err *err);
void mw_pgp_gpg_fini(void);

/* This thread's context set up for conf; NULL with err on failure. */
gpgme_ctx_t mw_pgp_gpg_ctx(const struct mw_pgp_gpg_conf *conf, struct mw_err *err);

/*
 * A usable key of addr (a user id with exactly that address, not revoked,
 * expired, disabled or invalid) able to encrypt (secret = 0) or, with its
 * secret part, to sign (secret = 1). 1 and *key (gpgme_key_unref it) when
 * found, 0 when there is none, -1 with err when GnuPG failed.
 */
int mw_pgp_gpg_find(gpgme_ctx_t ctx, const char *addr, int secret, gpgme_key_t *key,
                    struct mw_err *err);

/*
 * The encryption keys of n addresses: keys[i] gets addr[i]'s key or NULL
 * (gpgme_key_unref each). Addresses the key cache (keycache.h) knows for
 * home cost no gpg run; the others one key listing together. -1 with err
 * when GnuPG failed.
 */
int mw_pgp_gpg_find_many(gpgme_ctx_t ctx, const char *home, const char *const *addrs, size_t n,
                         gpgme_key_t *keys, struct mw_err *err);

/*
 * The signing key of addr, as the keystore (mw/keystore.h) chooses it: the
 * entry of the "mailward-defaults" file in home if it names a usable
 * secret key with a user id for addr, else the newest such key. 1 and
 * *key when found, 0 when none, -1 with err when GnuPG failed. Answers
 * are kept in the key cache like find_many's.
 */
int mw_pgp_gpg_signer(gpgme_ctx_t ctx, const char *home, const char *addr, gpgme_key_t *key,
                      struct mw_err *err);

/*
 * Encrypt (and sign with signer unless NULL) the spooled entity to the
 * NULL-terminated keys; armored. GnuPG reads the entity through GPGME
 * callbacks, piece by piece from the spool (never the whole in memory);
 * the armored ciphertext is appended to out the same way (a temp file past
 * out's memory limit). A failed append fails the encryption (err says why;
 * mw_spool_error(out) is set).
 * hide: GPGME_ENCRYPT_THROW_KEYIDS (wildcard key ids; rnp 0.16 cannot decrypt those).
 */
int mw_pgp_gpg_encrypt(gpgme_ctx_t ctx, gpgme_key_t *keys, gpgme_key_t signer, int hide,
                       const struct mw_spool *in, struct mw_spool *out, struct mw_err *err);
/* Detached armored signature; micalg gets "pgp-sha256" etc. (lower case). */
int mw_pgp_gpg_sign(gpgme_ctx_t ctx, gpgme_key_t signer, const void *data, size_t len,
                    struct mw_buf *out, char *micalg, size_t micalg_size, struct mw_err *err);

#endif
