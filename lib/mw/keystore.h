/*
 * mw/keystore.h - the OpenPGP keystore: key pairs per mail address (GPGME).
 *
 * The keys live in one GnuPG home (`[pgp] gnupg_home`). An address may have
 * several key pairs; one of them is its "default", the key that signs. The
 * choice is kept in the file "mailward-defaults" inside the home, one
 * "ADDRESS FINGERPRINT" per line, replaced by an atomic rename on write.
 * Without an entry (or when the entry's key is gone or unusable) the default
 * is the newest usable signing key with a secret part and a user id for the
 * address.
 *
 * Secret keys are protected at rest by a passphrase given to
 * mw_keystore_open(); GnuPG asks for it through loopback pinentry, so no
 * pinentry program and no terminal are needed. The home path must be short
 * (MW_KEYSTORE_HOME_MAX): gpg-agent puts its sockets there when
 * /run/user/UID does not exist, and a socket path is limited to 107 bytes.
 *
 * A struct mw_keystore owns one GPGME context: use it from one thread at a
 * time (open one per thread; opening is cheap, the agent is shared).
 * Every function returns 0 on success and -1 with err filled on failure.
 */
#ifndef MW_KEYSTORE_H
#define MW_KEYSTORE_H

#include <stddef.h>
#include <time.h>

#include <gpgme.h>

#include "mw/buf.h"
#include "mw/err.h"

/* Longest GnuPG home accepted (socket path limit minus "/S.gpg-agent.browser"). */
#define MW_KEYSTORE_HOME_MAX 80
/* A fingerprint as hex (v4: 40, v5: 64) plus NUL. */
#define MW_KEYSTORE_FPR_MAX 65
/* The defaults file inside the home, and its size limit. */
#define MW_KEYSTORE_DEFAULTS_FILE "mailward-defaults"
#define MW_KEYSTORE_DEFAULTS_MAX (1024 * 1024)

enum mw_keystore_algo {
    MW_KEYSTORE_ED25519, /* ed25519 signing primary, cv25519 encryption subkey */
    MW_KEYSTORE_RSA3072,
    MW_KEYSTORE_RSA4096,
};

/* open() flags */
#define MW_KEYSTORE_CREATE 0x01     /* create the home (mode 0700) if missing */
#define MW_KEYSTORE_STOP_AGENT 0x02 /* stop the home's gpg-agent in close() */

struct mw_keystore;

/* One key as listed. */
struct mw_keystore_key {
    char fpr[MW_KEYSTORE_FPR_MAX];
    char *address;    /* the listed address (the first matching uid's address) */
    char *algo;       /* e.g. "ed25519/cv25519" or "rsa3072/rsa3072" */
    time_t created;
    time_t expires;   /* 0 = never */
    int has_secret;
    int is_default;   /* the default signing key of address */
    int usable;       /* not revoked, expired, disabled or invalid */
    int can_sign, can_encrypt;
};

/* What an import did (counts from GnuPG). */
struct mw_keystore_import_result {
    int considered;       /* keys found in the data */
    int imported;         /* new public keys */
    int unchanged;        /* public keys already present and not changed */
    int secret_read;      /* secret keys found */
    int secret_imported;  /* new secret keys */
    int secret_unchanged; /* secret keys already present */
    int not_imported;     /* keys GnuPG refused */
};

/*
 * Open the keystore in home. passphrase (may be NULL: secret keys then
 * cannot be used or made) is copied and wiped in close().
 */
struct mw_keystore *mw_keystore_open(const char *home, const char *passphrase, int flags,
                                     struct mw_err *err);
/*
 * Make sure home's gpg.conf chooses AES-256, SHA-512 and iterated+salted
 * S2K for symmetric (password) encryption: the missing lines among
 * "s2k-cipher-algo AES256", "s2k-digest-algo SHA512", "s2k-mode 3" are
 * appended (atomic replace); lines the administrator wrote are kept.
 * open() with MW_KEYSTORE_CREATE does this.
 */
int mw_keystore_gpgconf(const char *home, struct mw_err *err);
/* Wipe the passphrase, release the context, maybe stop the agent; NULLs *ksp. */
void mw_keystore_close(struct mw_keystore **ksp);
/* The GPGME context (OpenPGP, armored output, loopback pinentry) for signing/encryption. */
gpgme_ctx_t mw_keystore_ctx(struct mw_keystore *ks);

/*
 * Make a new key pair for address, protected by the passphrase. expire_days
 * 0 = never. The fingerprint goes to fpr. The first key of an address does
 * not get a defaults entry: it is the default by being the only one.
 */
int mw_keystore_generate(struct mw_keystore *ks, const char *address, enum mw_keystore_algo algo,
                         unsigned expire_days, char fpr[MW_KEYSTORE_FPR_MAX], struct mw_err *err);
/* Parse "ed25519", "rsa3072", "rsa4096"; -1 if unknown. */
int mw_keystore_algo_parse(const char *name, enum mw_keystore_algo *algo);

/* Import keys (public or secret, armored or binary). Data without keys fails. */
int mw_keystore_import(struct mw_keystore *ks, const void *data, size_t len,
                       struct mw_keystore_import_result *res, struct mw_err *err);
/*
 * Export the keys of address (armored) to out; secret exports the secret
 * keys (still protected by their passphrase). Fails if there is none.
 */
int mw_keystore_export(struct mw_keystore *ks, const char *address, int secret,
                       struct mw_buf *out, struct mw_err *err);

/* List the keys of address (all keys when NULL); free with mw_keystore_keys_free. */
int mw_keystore_list(struct mw_keystore *ks, const char *address, struct mw_keystore_key **keys,
                     size_t *n, struct mw_err *err);
void mw_keystore_keys_free(struct mw_keystore_key **keys, size_t n);

/* Delete the key (secret and public) with this full fingerprint. */
int mw_keystore_delete(struct mw_keystore *ks, const char *fpr, struct mw_err *err);
/* Make fpr the default of address: a usable secret signing key with a uid for address. */
int mw_keystore_set_default(struct mw_keystore *ks, const char *address, const char *fpr,
                            struct mw_err *err);
/*
 * The default signing key of address: the defaults entry if it still names a
 * usable secret key for the address, else the newest such key. -1 with err
 * when the address has none.
 */
int mw_keystore_default(struct mw_keystore *ks, const char *address,
                        char fpr[MW_KEYSTORE_FPR_MAX], struct mw_err *err);

/*
 * The defaults file parser (pure, for tests and fuzzing): calls fn for each
 * "ADDRESS FPR" line of text. Blank lines and "#" comments are skipped;
 * anything else malformed fails with "LINE: problem". fn returning -1 stops.
 */
int mw_keystore_defaults_parse(const char *text, size_t len,
                               int (*fn)(const char *address, const char *fpr, void *arg),
                               void *arg, struct mw_err *err);

#endif
