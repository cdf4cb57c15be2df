/*
 * gpg.c - the pgp plugin's use of GPGME (see gpg.h).
 *
 * Passphrases reach gpg-agent through loopback pinentry: our callback
 * writes the configured passphrase; no pinentry program, no terminal.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "gpg.h"
#include "keycache.h"
#include "mw/alloc.h"

/*
 * Every thread's context is also on a list, so fini can release the ones
 * of threads still alive (libmilter keeps idle workers around) after
 * deleting the key (no destructor runs after that).
 */
struct mw_pgp_tctx {
    gpgme_ctx_t ctx;
    char *home; /* the home the context points at */
    struct mw_pgp_tctx *prev, *next;
};

static pthread_key_t mw_pgp_key;
static int mw_pgp_key_made;
static pthread_mutex_t mw_pgp_list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mw_pgp_tctx *mw_pgp_list;

static void
mw_pgp_tctx_free(void *p)
{
    struct mw_pgp_tctx *t = p;

    pthread_mutex_lock(&mw_pgp_list_lock);
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        mw_pgp_list = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    pthread_mutex_unlock(&mw_pgp_list_lock);
    gpgme_release(t->ctx);
    mw_free(&t->home);
    mw_free(&t);
}

int
mw_pgp_gpg_init(struct mw_err *err)
{
    gpgme_error_t e;

    if (gpgme_check_version("1.10.0") == NULL)
        return mw_err_set(err, "GPGME is older than 1.10.0");
    if ((e = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP)) != 0)
        return mw_err_set(err, "no usable gpg engine: %s", gpgme_strerror(e));
    if (!mw_pgp_key_made) {
        if (pthread_key_create(&mw_pgp_key, mw_pgp_tctx_free) != 0)
            return mw_err_set(err, "pthread_key_create failed");
        mw_pgp_key_made = 1;
    }
    return 0;
}

void
mw_pgp_gpg_fini(void)
{
    if (!mw_pgp_key_made)
        return;
    /* No hook runs now: release the contexts of every thread, ended or idle. */
    pthread_key_delete(mw_pgp_key);
    mw_pgp_key_made = 0;
    while (mw_pgp_list != NULL)
        mw_pgp_tctx_free(mw_pgp_list);
    mw_pgp_keycache_clear();
}

static gpgme_error_t
mw_pgp_passphrase_cb(void *hook, const char *uid_hint, const char *info, int prev_bad, int fd)
{
    const char *pw = hook;
    size_t len = strlen(pw), off = 0;

    (void)uid_hint;
    (void)info;
    if (prev_bad)
        return gpg_error(GPG_ERR_BAD_PASSPHRASE);
    while (off < len) {
        ssize_t n = gpgme_io_write(fd, pw + off, len - off);
        if (n <= 0)
            return gpg_error(GPG_ERR_CANCELED);
        off += (size_t)n;
    }
    return gpgme_io_write(fd, "\n", 1) == 1 ? 0 : gpg_error(GPG_ERR_CANCELED);
}

static gpgme_ctx_t
mw_pgp_ctx_new(const char *home, struct mw_err *err)
{
    gpgme_ctx_t ctx;
    gpgme_error_t e;

    if ((e = gpgme_new(&ctx)) != 0) {
        mw_err_set(err, "gpgme_new: %s", gpgme_strerror(e));
        return NULL;
    }
    if ((e = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)) != 0 ||
        (e = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, home)) != 0 ||
        (e = gpgme_set_pinentry_mode(ctx, GPGME_PINENTRY_MODE_LOOPBACK)) != 0) {
        mw_err_set(err, "GnuPG home %s: %s", home, gpgme_strerror(e));
        gpgme_release(ctx);
        return NULL;
    }
    gpgme_set_armor(ctx, 1);
    gpgme_set_offline(ctx, 1);
    return ctx;
}

gpgme_ctx_t
mw_pgp_gpg_ctx(const struct mw_pgp_gpg_conf *conf, struct mw_err *err)
{
    struct mw_pgp_tctx *t = pthread_getspecific(mw_pgp_key);

    if (t != NULL && strcmp(t->home, conf->home) != 0) {
        pthread_setspecific(mw_pgp_key, NULL);
        mw_pgp_tctx_free(t);
        t = NULL;
    }
    if (t == NULL) {
        gpgme_ctx_t ctx = mw_pgp_ctx_new(conf->home, err);
        if (ctx == NULL)
            return NULL;
        t = mw_calloc(1, sizeof(*t));
        t->ctx = ctx;
        t->home = mw_strdup(conf->home);
        pthread_mutex_lock(&mw_pgp_list_lock);
        t->next = mw_pgp_list;
        if (mw_pgp_list != NULL)
            mw_pgp_list->prev = t;
        mw_pgp_list = t;
        pthread_mutex_unlock(&mw_pgp_list_lock);
        pthread_setspecific(mw_pgp_key, t);
    }
    /* The passphrase string lives in the settings, which never change under a hook. */
    gpgme_set_passphrase_cb(t->ctx, mw_pgp_passphrase_cb, (void *)conf->passphrase);
    gpgme_signers_clear(t->ctx);
    return t->ctx;
}

/* Whether uid's address is addr (case-insensitive; GnuPG's own address parse). */
static int
mw_pgp_uid_is(const gpgme_user_id_t uid, const char *addr)
{
    return !uid->revoked && !uid->invalid && uid->address != NULL &&
           strcasecmp(uid->address, addr) == 0;
}

static int
mw_pgp_key_fits(gpgme_key_t k, const char *addr, int secret)
{
    int uid_ok = 0, sub_ok = 0;

    if (k->revoked || k->expired || k->disabled || k->invalid)
        return 0;
    for (gpgme_user_id_t u = k->uids; u; u = u->next)
        uid_ok |= mw_pgp_uid_is(u, addr);
    for (gpgme_subkey_t s = k->subkeys; s; s = s->next) {
        if (s->revoked || s->expired || s->disabled || s->invalid)
            continue;
        if (secret ? s->can_sign && s->secret : s->can_encrypt)
            sub_ok = 1;
    }
    return uid_ok && sub_ok;
}

int
mw_pgp_gpg_find(gpgme_ctx_t ctx, const char *addr, int secret, gpgme_key_t *key, struct mw_err *err)
{
    char *pattern;
    gpgme_error_t e;
    gpgme_key_t k, found = NULL;
    size_t len = strlen(addr);

    *key = NULL;
    if (len == 0 || len > 320 || strpbrk(addr, "<>\n\r\t ") != NULL)
        return 0;
    pattern = mw_malloc(len + 3);
    pattern[0] = '<';
    memcpy(pattern + 1, addr, len);
    memcpy(pattern + 1 + len, ">", 2);
    e = gpgme_op_keylist_start(ctx, pattern, secret);
    mw_free(&pattern);
    if (e != 0)
        return mw_err_set(err, "key listing for %s: %s", addr, gpgme_strerror(e));
    while ((e = gpgme_op_keylist_next(ctx, &k)) == 0) {
        /* The newest fitting key (the keystore's rule for the default signing key). */
        if (mw_pgp_key_fits(k, addr, secret) &&
            (found == NULL || k->subkeys->timestamp > found->subkeys->timestamp)) {
            gpgme_key_unref(found);
            found = k;
        } else {
            gpgme_key_unref(k);
        }
    }
    gpgme_op_keylist_end(ctx);
    if (gpgme_err_code(e) != GPG_ERR_EOF) {
        gpgme_key_unref(found);
        return mw_err_set(err, "key listing for %s: %s", addr, gpgme_strerror(e));
    }
    *key = found;
    return found != NULL;
}

/* "<addr>" patterns for the addresses GnuPG can look up (NULL-terminated, mw_free each). */
static char **
mw_pgp_patterns(const char *const *addrs, size_t n)
{
    char **pat = mw_calloc(n + 1, sizeof(*pat));
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(addrs[i]);
        if (len == 0 || len > 320 || strpbrk(addrs[i], "<>\n\r\t ") != NULL)
            continue;
        pat[k] = mw_malloc(len + 3);
        snprintf(pat[k], len + 3, "<%s>", addrs[i]);
        k++;
    }
    return pat;
}

/* find_many without the cache: one key listing (one gpg run). */
static int
mw_pgp_gpg_list_many(gpgme_ctx_t ctx, const char *const *addrs, size_t n, gpgme_key_t *keys,
                     struct mw_err *err)
{
    char **pat = mw_pgp_patterns(addrs, n);
    gpgme_error_t e = 0;
    gpgme_key_t k;

    for (size_t i = 0; i < n; i++)
        keys[i] = NULL;
    if (pat[0] != NULL && (e = gpgme_op_keylist_ext_start(ctx, (const char **)pat, 0, 0)) == 0) {
        while ((e = gpgme_op_keylist_next(ctx, &k)) == 0) {
            for (size_t i = 0; i < n; i++)
                if (keys[i] == NULL && mw_pgp_key_fits(k, addrs[i], 0)) {
                    gpgme_key_ref(k);
                    keys[i] = k;
                }
            gpgme_key_unref(k);
        }
        gpgme_op_keylist_end(ctx);
        if (gpgme_err_code(e) == GPG_ERR_EOF)
            e = 0;
    }
    for (char **p = pat; *p; p++)
        mw_free(p);
    mw_free(&pat);
    if (e != 0) {
        for (size_t i = 0; i < n; i++) {
            gpgme_key_unref(keys[i]);
            keys[i] = NULL;
        }
        return mw_err_set(err, "key listing: %s", gpgme_strerror(e));
    }
    return 0;
}

int
mw_pgp_gpg_find_many(gpgme_ctx_t ctx, const char *home, const char *const *addrs, size_t n,
                     gpgme_key_t *keys, struct mw_err *err)
{
    unsigned long gen = mw_pgp_keycache_begin(home);
    const char **ask = mw_calloc(n + 1, sizeof(*ask));
    size_t *at = mw_calloc(n + 1, sizeof(*at)), nask = 0;
    gpgme_key_t *got = mw_calloc(n + 1, sizeof(*got));
    int rc = 0;

    for (size_t i = 0; i < n; i++)
        if (!mw_pgp_keycache_get(gen, addrs[i], 0, &keys[i])) {
            ask[nask] = addrs[i];
            at[nask++] = i;
        }
    if (nask > 0 && (rc = mw_pgp_gpg_list_many(ctx, ask, nask, got, err)) == 0) {
        for (size_t j = 0; j < nask; j++) {
            keys[at[j]] = got[j];
            mw_pgp_keycache_put(gen, ask[j], 0, got[j]);
        }
    } else if (rc < 0) {
        for (size_t i = 0; i < n; i++) {
            gpgme_key_unref(keys[i]);
            keys[i] = NULL;
        }
    }
    mw_free(&ask);
    mw_free(&at);
    mw_free(&got);
    return rc;
}

/* The fingerprint the defaults file names for addr into fpr ("" if none). */
static void
mw_pgp_default_fpr(const char *home, const char *addr, char *fpr, size_t size)
{
    char path[4096], line[1024];
    FILE *f;

    *fpr = '\0';
    if ((size_t)snprintf(path, sizeof(path), "%s/mailward-defaults", home) >= sizeof(path) ||
        (f = fopen(path, "r")) == NULL)
        return;
    for (int n = 0; n < 100000 && fgets(line, sizeof(line), f) != NULL; n++) {
        char *save = NULL, *a = strtok_r(line, " \t\r\n", &save);
        char *fp = a ? strtok_r(NULL, " \t\r\n", &save) : NULL;
        if (a == NULL || *a == '#' || fp == NULL || strcasecmp(a, addr) != 0)
            continue;
        if (strlen(fp) < size && strspn(fp, "0123456789abcdefABCDEF") == strlen(fp))
            snprintf(fpr, size, "%s", fp);
        break;
    }
    fclose(f);
}

/* The signer as the keystore chooses it, asking gpg (one or two runs). */
static int
mw_pgp_gpg_choose_signer(gpgme_ctx_t ctx, const char *home, const char *addr, gpgme_key_t *key,
                         struct mw_err *err)
{
    char fpr[65];
    gpgme_key_t k = NULL;

    mw_pgp_default_fpr(home, addr, fpr, sizeof(fpr));
    if (*fpr != '\0' && gpgme_get_key(ctx, fpr, &k, 1) == 0) {
        if (mw_pgp_key_fits(k, addr, 1)) {
            *key = k;
            return 1;
        }
        gpgme_key_unref(k);
    }
    return mw_pgp_gpg_find(ctx, addr, 1, key, err);
}

int
mw_pgp_gpg_signer(gpgme_ctx_t ctx, const char *home, const char *addr, gpgme_key_t *key,
                  struct mw_err *err)
{
    unsigned long gen = mw_pgp_keycache_begin(home);
    int rc;

    if (mw_pgp_keycache_get(gen, addr, 1, key))
        return *key != NULL;
    if ((rc = mw_pgp_gpg_choose_signer(ctx, home, addr, key, err)) >= 0)
        mw_pgp_keycache_put(gen, addr, 1, *key);
    return rc;
}

/* Copy a GPGME data object's bytes to out and release it. */
static void
mw_pgp_data_take(gpgme_data_t d, struct mw_buf *out)
{
    size_t n;
    char *p = gpgme_data_release_and_get_mem(d, &n);

    if (p != NULL)
        mw_buf_append(out, p, n);
    gpgme_free(p);
}

/* A reader of a spool for GPGME: the spool and the offset read so far. */
struct mw_pgp_spool_reader {
    const struct mw_spool *s;
    size_t off;
};

static ssize_t
mw_pgp_spool_cb_read(void *handle, void *buffer, size_t size)
{
    struct mw_pgp_spool_reader *r = handle;
    ssize_t n = mw_spool_read(r->s, r->off, buffer, size);

    if (n > 0)
        r->off += (size_t)n;
    return n;
}

static off_t
mw_pgp_spool_cb_seek(void *handle, off_t offset, int whence)
{
    struct mw_pgp_spool_reader *r = handle;
    off_t base = whence == SEEK_SET   ? 0
                 : whence == SEEK_CUR ? (off_t)r->off
                                      : (off_t)mw_spool_len(r->s);

    if (base + offset < 0)
        return -1;
    r->off = (size_t)(base + offset);
    return (off_t)r->off;
}

/* GnuPG's output appended to a spool (a temp file past its memory limit). */
static ssize_t
mw_pgp_spool_cb_write(void *handle, const void *buffer, size_t size)
{
    if (mw_spool_append(handle, buffer, size) < 0) {
        errno = ENOSPC;
        return -1;
    }
    return (ssize_t)size;
}

int
mw_pgp_gpg_encrypt(gpgme_ctx_t ctx, gpgme_key_t *keys, gpgme_key_t signer, int hide,
                   const struct mw_spool *entity, struct mw_spool *out, struct mw_err *err)
{
    static struct gpgme_data_cbs cbs = {mw_pgp_spool_cb_read, NULL, mw_pgp_spool_cb_seek, NULL};
    static struct gpgme_data_cbs out_cbs = {NULL, mw_pgp_spool_cb_write, NULL, NULL};
    struct mw_pgp_spool_reader reader = {entity, 0};
    gpgme_data_t in, cipher;
    gpgme_error_t e;
    gpgme_encrypt_flags_t fl = GPGME_ENCRYPT_ALWAYS_TRUST;

    if (hide)
        fl |= GPGME_ENCRYPT_THROW_KEYIDS;
    if ((e = gpgme_data_new_from_cbs(&in, &cbs, &reader)) != 0)
        return mw_err_set(err, "gpgme_data_new: %s", gpgme_strerror(e));
    if ((e = gpgme_data_new_from_cbs(&cipher, &out_cbs, out)) != 0) {
        gpgme_data_release(in);
        return mw_err_set(err, "gpgme_data_new: %s", gpgme_strerror(e));
    }
    gpgme_signers_clear(ctx);
    if (signer != NULL && (e = gpgme_signers_add(ctx, signer)) == 0)
        e = gpgme_op_encrypt_sign(ctx, keys, fl, in, cipher);
    else if (signer == NULL)
        e = gpgme_op_encrypt(ctx, keys, fl, in, cipher);
    gpgme_signers_clear(ctx);
    gpgme_data_release(in);
    if (e == 0) {
        gpgme_encrypt_result_t r = gpgme_op_encrypt_result(ctx);
        if (r != NULL && r->invalid_recipients != NULL)
            e = gpg_error(GPG_ERR_UNUSABLE_PUBKEY);
    }
    gpgme_data_release(cipher);
    if (e != 0)
        return mw_err_set(err, "%s: %s", signer ? "encrypt+sign" : "encrypt",
                          mw_spool_error(out) ? mw_spool_error(out) : gpgme_strerror(e));
    return mw_spool_error(out) ? mw_err_set(err, "%s", mw_spool_error(out)) : 0;
}

int
mw_pgp_gpg_sign(gpgme_ctx_t ctx, gpgme_key_t signer, const void *data, size_t len,
                struct mw_buf *out, char *micalg, size_t micalg_size, struct mw_err *err)
{
    gpgme_data_t in, sig;
    gpgme_error_t e;
    gpgme_sign_result_t r;
    const char *h;

    if ((e = gpgme_data_new_from_mem(&in, data, len, 0)) != 0)
        return mw_err_set(err, "gpgme_data_new: %s", gpgme_strerror(e));
    if ((e = gpgme_data_new(&sig)) != 0) {
        gpgme_data_release(in);
        return mw_err_set(err, "gpgme_data_new: %s", gpgme_strerror(e));
    }
    gpgme_signers_clear(ctx);
    if ((e = gpgme_signers_add(ctx, signer)) == 0)
        e = gpgme_op_sign(ctx, in, sig, GPGME_SIG_MODE_DETACH);
    gpgme_signers_clear(ctx);
    gpgme_data_release(in);
    r = e == 0 ? gpgme_op_sign_result(ctx) : NULL;
    if (e == 0 && (r == NULL || r->signatures == NULL || r->invalid_signers != NULL))
        e = gpg_error(GPG_ERR_UNUSABLE_SECKEY);
    if (e == 0 && (h = gpgme_hash_algo_name(r->signatures->hash_algo)) == NULL)
        e = gpg_error(GPG_ERR_DIGEST_ALGO);
    if (e != 0) {
        gpgme_data_release(sig);
        return mw_err_set(err, "sign: %s", gpgme_strerror(e));
    }
    snprintf(micalg, micalg_size, "pgp-%s", h);
    for (char *p = micalg; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    mw_pgp_data_take(sig, out);
    return 0;
}
