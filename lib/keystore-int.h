/*
 * keystore-int.h - what the keystore's files share (not installed).
 */
#ifndef MW_KEYSTORE_INT_H
#define MW_KEYSTORE_INT_H

#include <stddef.h>

#include "mw/keystore.h"

struct mw_keystore {
    gpgme_ctx_t ctx;
    char *home;
    char *passphrase; /* wiped in close */
    int flags;
};

/* The parsed defaults file: address -> fingerprint. */
struct mw_keystore_defaults {
    struct {
        char *address; /* lower case */
        char fpr[MW_KEYSTORE_FPR_MAX];
    } *entries;
    size_t n;
};

/* Is a/len a plain mail address (no blanks, controls or <>, one @)? */
int mw_keystore_address_ok(const char *a, size_t len);
/* Is f/len a full fingerprint (40 or 64 hex digits)? */
int mw_keystore_fpr_ok(const char *f, size_t len);

/* Read home's defaults file (missing = empty). */
int mw_keystore_defaults_read(const char *home, struct mw_keystore_defaults *map,
                              struct mw_err *err);
/* Replace home's defaults file atomically. */
int mw_keystore_defaults_write(const char *home, const struct mw_keystore_defaults *map,
                               struct mw_err *err);
/* Set (fpr) or remove (fpr NULL) address's entry. */
void mw_keystore_defaults_set(struct mw_keystore_defaults *map, const char *address,
                              const char *fpr);
const char *mw_keystore_defaults_get(const struct mw_keystore_defaults *map, const char *address);
void mw_keystore_defaults_release(struct mw_keystore_defaults *map);

/* Does key have a valid uid whose address is address (case-insensitive)? */
int mw_keystore_key_has_address(gpgme_key_t key, const char *address);
/* Is key usable to sign as address (secret, valid, can sign, uid)? */
int mw_keystore_key_signs_for(gpgme_key_t key, const char *address);

#endif
