/*
 * keystore-list.c - listing keys and choosing the default signing key.
 *
 * SYNOPSIS
 *   mw_keystore_list / keys_free
 *   mw_keystore_default / set_default
 *
 * DESCRIPTION
 *   A key belongs to an address when one of its user ids that is neither
 *   revoked nor invalid has that address (gpg's "<addr>" pattern finds the
 *   candidates, the comparison here decides). A key can sign for an address
 *   when, in addition, its secret part is here, it is not revoked, expired,
 *   disabled or invalid, and it can sign. The default is the defaults file's
 *   entry when that key can still sign for the address, else the newest key
 *   that can.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "keystore-int.h"
#include "mw/alloc.h"
#include "mw/buf.h"

int
mw_keystore_key_has_address(gpgme_key_t key, const char *address)
{
    for (gpgme_user_id_t u = key->uids; u != NULL; u = u->next)
        if (!u->revoked && !u->invalid && u->email != NULL && strcasecmp(u->email, address) == 0)
            return 1;
    return 0;
}

static int
key_usable(gpgme_key_t key)
{
    return !key->revoked && !key->expired && !key->disabled && !key->invalid;
}

int
mw_keystore_key_signs_for(gpgme_key_t key, const char *address)
{
    return key->secret && key_usable(key) && key->can_sign &&
           mw_keystore_key_has_address(key, address);
}

/* Start a listing of address's keys (all when NULL), with secret flags. */
static int
list_start(struct mw_keystore *ks, const char *address, struct mw_err *err)
{
    char pattern[300];
    gpgme_error_t ge;

    if (address != NULL && !mw_keystore_address_ok(address, strlen(address)))
        return mw_err_set(err, "\"%s\": not a mail address", address);
    if (address != NULL)
        snprintf(pattern, sizeof(pattern), "<%s>", address);
    gpgme_set_keylist_mode(ks->ctx, GPGME_KEYLIST_MODE_LOCAL | GPGME_KEYLIST_MODE_WITH_SECRET);
    ge = gpgme_op_keylist_start(ks->ctx, address ? pattern : NULL, 0);
    if (ge != 0)
        return mw_err_set(err, "key listing: %s", gpgme_strerror(ge));
    return 0;
}

static void
key_fill(struct mw_keystore_key *k, gpgme_key_t key, const char *address)
{
    struct mw_buf algo;
    const char *email = NULL;

    memset(k, 0, sizeof(*k));
    snprintf(k->fpr, sizeof(k->fpr), "%s", key->fpr ? key->fpr : "");
    for (gpgme_user_id_t u = key->uids; u != NULL && email == NULL; u = u->next)
        if (u->email != NULL && *u->email &&
            (address == NULL || strcasecmp(u->email, address) == 0))
            email = u->email;
    k->address = mw_strdup(address ? address : email ? email : "");
    mw_buf_init(&algo);
    for (gpgme_subkey_t s = key->subkeys; s != NULL; s = s->next) {
        char *name = gpgme_pubkey_algo_string(s);
        mw_buf_printf(&algo, "%s%s", algo.len ? "/" : "", name ? name : "?");
        gpgme_free(name);
    }
    k->algo = mw_buf_steal(&algo);
    if (key->subkeys != NULL) {
        k->created = (time_t)key->subkeys->timestamp;
        k->expires = (time_t)key->subkeys->expires;
    }
    k->has_secret = key->secret;
    k->usable = key_usable(key);
    k->can_sign = key->can_sign;
    k->can_encrypt = key->can_encrypt;
}

/* The default of address among the candidates in the open listing. */
static int
default_pick(struct mw_keystore *ks, const char *address, const char *chosen,
             char fpr[MW_KEYSTORE_FPR_MAX], struct mw_err *err)
{
    gpgme_key_t key;
    long newest = -1;
    int found = 0;

    if (list_start(ks, address, err) < 0)
        return -1;
    while (gpgme_op_keylist_next(ks->ctx, &key) == 0) {
        if (mw_keystore_key_signs_for(key, address) && key->fpr != NULL) {
            long created = key->subkeys ? key->subkeys->timestamp : 0;
            if (chosen != NULL && strcasecmp(key->fpr, chosen) == 0) {
                newest = 1L << 62; /* the chosen key beats any date */
                snprintf(fpr, MW_KEYSTORE_FPR_MAX, "%s", key->fpr);
            } else if (created > newest) {
                newest = created;
                snprintf(fpr, MW_KEYSTORE_FPR_MAX, "%s", key->fpr);
            }
            found = 1;
        }
        gpgme_key_unref(key);
    }
    gpgme_op_keylist_end(ks->ctx);
    if (!found)
        return mw_err_set(err, "%s: no usable secret signing key", address);
    return 0;
}

int
mw_keystore_default(struct mw_keystore *ks, const char *address, char fpr[MW_KEYSTORE_FPR_MAX],
                    struct mw_err *err)
{
    struct mw_keystore_defaults map;
    int rc;

    if (!mw_keystore_address_ok(address, strlen(address)))
        return mw_err_set(err, "\"%s\": not a mail address", address);
    if (mw_keystore_defaults_read(ks->home, &map, err) < 0)
        return -1;
    rc = default_pick(ks, address, mw_keystore_defaults_get(&map, address), fpr, err);
    mw_keystore_defaults_release(&map);
    return rc;
}

int
mw_keystore_set_default(struct mw_keystore *ks, const char *address, const char *fpr,
                        struct mw_err *err)
{
    struct mw_keystore_defaults map;
    gpgme_key_t key = NULL;
    int ok, rc;

    if (!mw_keystore_address_ok(address, strlen(address)))
        return mw_err_set(err, "\"%s\": not a mail address", address);
    if (!mw_keystore_fpr_ok(fpr, strlen(fpr)))
        return mw_err_set(err, "\"%s\": not a full fingerprint (40 or 64 hex digits)", fpr);
    gpgme_set_keylist_mode(ks->ctx, GPGME_KEYLIST_MODE_LOCAL | GPGME_KEYLIST_MODE_WITH_SECRET);
    if (gpgme_get_key(ks->ctx, fpr, &key, 0) != 0 || strcasecmp(key->fpr, fpr) != 0) {
        if (key != NULL)
            gpgme_key_unref(key);
        return mw_err_set(err, "%s: key not found", fpr);
    }
    ok = mw_keystore_key_signs_for(key, address);
    gpgme_key_unref(key);
    if (!ok)
        return mw_err_set(err, "%s: not a usable secret signing key with a user id for %s", fpr,
                          address);
    if (mw_keystore_defaults_read(ks->home, &map, err) < 0)
        return -1;
    mw_keystore_defaults_set(&map, address, fpr);
    for (size_t i = 0; i < map.n; i++)
        for (char *p = map.entries[i].fpr; *p; p++)
            *p = (char)(*p >= 'a' && *p <= 'f' ? *p - 32 : *p);
    rc = mw_keystore_defaults_write(ks->home, &map, err);
    mw_keystore_defaults_release(&map);
    return rc;
}

int
mw_keystore_list(struct mw_keystore *ks, const char *address, struct mw_keystore_key **keys,
                 size_t *n, struct mw_err *err)
{
    struct mw_keystore_defaults map;
    gpgme_key_t key;
    gpgme_error_t ge;

    *keys = NULL;
    *n = 0;
    if (mw_keystore_defaults_read(ks->home, &map, err) < 0)
        return -1;
    if (list_start(ks, address, err) < 0) {
        mw_keystore_defaults_release(&map);
        return -1;
    }
    while ((ge = gpgme_op_keylist_next(ks->ctx, &key)) == 0) {
        if (address == NULL || mw_keystore_key_has_address(key, address)) {
            *keys = mw_reallocarray(*keys, *n + 1, sizeof(**keys));
            key_fill(&(*keys)[(*n)++], key, address);
        }
        gpgme_key_unref(key);
    }
    gpgme_op_keylist_end(ks->ctx);
    /* Mark each address's default (one more listing per distinct address). */
    for (size_t i = 0; i < *n; i++) {
        char fpr[MW_KEYSTORE_FPR_MAX];
        struct mw_err ignored;
        const char *a = (*keys)[i].address;

        if (!(*keys)[i].has_secret || !mw_keystore_address_ok(a, strlen(a)))
            continue;
        if (default_pick(ks, a, mw_keystore_defaults_get(&map, a), fpr, &ignored) == 0)
            (*keys)[i].is_default = strcasecmp(fpr, (*keys)[i].fpr) == 0;
    }
    mw_keystore_defaults_release(&map);
    if (gpgme_err_code(ge) != GPG_ERR_EOF) {
        mw_keystore_keys_free(keys, *n);
        *n = 0;
        return mw_err_set(err, "key listing: %s", gpgme_strerror(ge));
    }
    return 0;
}

void
mw_keystore_keys_free(struct mw_keystore_key **keys, size_t n)
{
    if (*keys == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        mw_free(&(*keys)[i].address);
        mw_free(&(*keys)[i].algo);
    }
    mw_free(keys);
}
