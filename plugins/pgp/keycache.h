/*
 * keycache.h - the pgp plugin's memory of key look-ups.
 *
 * Every look-up through GPGME is a gpg run (about as long as the
 * encryption itself), so without this a message cost two gpg runs, three
 * with a signature. The cache remembers, per GnuPG home, address and kind
 * (encryption key or signing key), the key found or that there was none.
 *
 * It never outlives the keystore it describes: each call compares the
 * home's key files (pubring.kbx, pubring.gpg, private-keys-v1.d and the
 * keystore's mailward-defaults file: device, inode, size, change times)
 * with what they were when the entries were made, and forgets everything
 * when one differs, so an import, a deletion, a revocation or a new
 * default is seen by the next message. An entry also ends after
 * MW_PGP_KEYCACHE_TTL seconds, so a key that expires as time passes is
 * dropped within that time (and gpg itself refuses to encrypt to it).
 *
 * A look-up takes a generation (mw_pgp_keycache_begin) before it asks gpg
 * and stores the answer under it: an answer from a listing that raced with
 * a keystore change is dropped, never kept.
 *
 * Thread-safe (one mutex); keys handed out carry their own reference
 * (gpgme_key_unref them).
 */
#ifndef MW_PGP_KEYCACHE_H
#define MW_PGP_KEYCACHE_H

#include <gpgme.h>

#define MW_PGP_KEYCACHE_TTL 60    /* seconds an entry is believed */
#define MW_PGP_KEYCACHE_MAX 16384 /* entries; a full cache starts over */

/* Check home's key files; the generation to pass to _put after asking gpg. */
unsigned long mw_pgp_keycache_begin(const char *home);

/*
 * 1 when the cache knows addr (lower and upper case alike) in the current
 * generation: *key gets the key (a new reference) or NULL for "none".
 * 0 when it does not: ask gpg.
 */
int mw_pgp_keycache_get(unsigned long gen, const char *addr, int secret, gpgme_key_t *key);

/* Remember key (NULL: none; the cache takes its own reference) unless gen is stale. */
void mw_pgp_keycache_put(unsigned long gen, const char *addr, int secret, gpgme_key_t key);

/* Forget everything (the plugin's fini). */
void mw_pgp_keycache_clear(void);

#endif
