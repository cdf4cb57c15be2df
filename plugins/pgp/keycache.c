/*
 * keycache.c - the pgp plugin's memory of key look-ups (see keycache.h).
 *
 * A fixed table of hash chains under one mutex; the stamp of the GnuPG
 * home is taken with four stat() calls per message, far below one gpg run.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "keycache.h"
#include "mw/alloc.h"

#define MW_PGP_KEYCACHE_BUCKETS 4096
#define MW_PGP_KEYCACHE_ADDR 320

/* What one key file of the home looked like. */
struct mw_pgp_kfile {
    int present;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtim, ctim;
};

/* The files whose change means the keystore changed (gpg 2.1+ and legacy rings). */
static const char *const mw_pgp_kfiles[] = {"pubring.kbx", "pubring.gpg", "private-keys-v1.d",
                                            "mailward-defaults"};
#define MW_PGP_NKFILES (sizeof(mw_pgp_kfiles) / sizeof(mw_pgp_kfiles[0]))

struct mw_pgp_kentry {
    struct mw_pgp_kentry *next;
    gpgme_key_t key; /* NULL: no usable key */
    struct timespec at;
    int secret;
    char addr[MW_PGP_KEYCACHE_ADDR + 1]; /* lower case */
};

static pthread_mutex_t mw_pgp_kc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mw_pgp_kentry *mw_pgp_kc_table[MW_PGP_KEYCACHE_BUCKETS];
static size_t mw_pgp_kc_count;
static unsigned long mw_pgp_kc_gen = 1;
static char *mw_pgp_kc_home;
static struct mw_pgp_kfile mw_pgp_kc_stamp[MW_PGP_NKFILES];

static void
mw_pgp_kc_empty(void)
{
    for (size_t b = 0; b < MW_PGP_KEYCACHE_BUCKETS; b++) {
        while (mw_pgp_kc_table[b] != NULL) {
            struct mw_pgp_kentry *e = mw_pgp_kc_table[b];
            mw_pgp_kc_table[b] = e->next;
            gpgme_key_unref(e->key);
            mw_free(&e);
        }
    }
    mw_pgp_kc_count = 0;
}

static void
mw_pgp_kfile_stat(const char *home, const char *name, struct mw_pgp_kfile *f)
{
    char path[4096];
    struct stat st;

    memset(f, 0, sizeof(*f));
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", home, name) >= sizeof(path) ||
        stat(path, &st) != 0)
        return;
    f->present = 1;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->size = st.st_size;
    f->mtim = st.st_mtim;
    f->ctim = st.st_ctim;
}

static int
mw_pgp_kfile_same(const struct mw_pgp_kfile *a, const struct mw_pgp_kfile *b)
{
    return a->present == b->present && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtim.tv_sec == b->mtim.tv_sec && a->mtim.tv_nsec == b->mtim.tv_nsec &&
           a->ctim.tv_sec == b->ctim.tv_sec && a->ctim.tv_nsec == b->ctim.tv_nsec;
}

unsigned long
mw_pgp_keycache_begin(const char *home)
{
    struct mw_pgp_kfile now[MW_PGP_NKFILES];
    int same;
    unsigned long gen;

    for (size_t i = 0; i < MW_PGP_NKFILES; i++)
        mw_pgp_kfile_stat(home, mw_pgp_kfiles[i], &now[i]);
    pthread_mutex_lock(&mw_pgp_kc_lock);
    same = mw_pgp_kc_home != NULL && strcmp(mw_pgp_kc_home, home) == 0;
    for (size_t i = 0; same && i < MW_PGP_NKFILES; i++)
        same = mw_pgp_kfile_same(&now[i], &mw_pgp_kc_stamp[i]);
    if (!same) {
        mw_pgp_kc_empty();
        mw_pgp_kc_gen++;
        mw_free(&mw_pgp_kc_home);
        mw_pgp_kc_home = mw_strdup(home);
        memcpy(mw_pgp_kc_stamp, now, sizeof(now));
    }
    gen = mw_pgp_kc_gen;
    pthread_mutex_unlock(&mw_pgp_kc_lock);
    return gen;
}

/* addr in lower case into out; -1 when it is too long to keep. */
static int
mw_pgp_kc_fold(const char *addr, char *out)
{
    size_t i;

    for (i = 0; addr[i] != '\0'; i++) {
        if (i == MW_PGP_KEYCACHE_ADDR)
            return -1;
        out[i] = addr[i] >= 'A' && addr[i] <= 'Z' ? (char)(addr[i] - 'A' + 'a') : addr[i];
    }
    out[i] = '\0';
    return 0;
}

static size_t
mw_pgp_kc_bucket(const char *folded, int secret)
{
    uint32_t h = 2166136261u ^ (uint32_t)secret;

    for (const unsigned char *p = (const unsigned char *)folded; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % MW_PGP_KEYCACHE_BUCKETS;
}

/* The entry's link in its chain, or the chain's end (*result NULL). */
static struct mw_pgp_kentry **
mw_pgp_kc_find(const char *folded, int secret)
{
    struct mw_pgp_kentry **pp = &mw_pgp_kc_table[mw_pgp_kc_bucket(folded, secret)];

    while (*pp != NULL && ((*pp)->secret != secret || strcmp((*pp)->addr, folded) != 0))
        pp = &(*pp)->next;
    return pp;
}

static int
mw_pgp_kc_expired(const struct mw_pgp_kentry *e, const struct timespec *now)
{
    return now->tv_sec - e->at.tv_sec >= MW_PGP_KEYCACHE_TTL || now->tv_sec < e->at.tv_sec;
}

int
mw_pgp_keycache_get(unsigned long gen, const char *addr, int secret, gpgme_key_t *key)
{
    char folded[MW_PGP_KEYCACHE_ADDR + 1];
    struct mw_pgp_kentry **pp, *e;
    struct timespec now;
    int hit = 0;

    *key = NULL;
    if (mw_pgp_kc_fold(addr, folded) < 0)
        return 0;
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&mw_pgp_kc_lock);
    if (gen == mw_pgp_kc_gen && (e = *(pp = mw_pgp_kc_find(folded, !!secret))) != NULL) {
        if (mw_pgp_kc_expired(e, &now)) {
            *pp = e->next;
            gpgme_key_unref(e->key);
            mw_free(&e);
            mw_pgp_kc_count--;
        } else {
            if (e->key != NULL)
                gpgme_key_ref(e->key);
            *key = e->key;
            hit = 1;
        }
    }
    pthread_mutex_unlock(&mw_pgp_kc_lock);
    return hit;
}

void
mw_pgp_keycache_put(unsigned long gen, const char *addr, int secret, gpgme_key_t key)
{
    char folded[MW_PGP_KEYCACHE_ADDR + 1];
    struct mw_pgp_kentry **pp, *e;

    if (mw_pgp_kc_fold(addr, folded) < 0)
        return;
    pthread_mutex_lock(&mw_pgp_kc_lock);
    if (gen != mw_pgp_kc_gen) {
        pthread_mutex_unlock(&mw_pgp_kc_lock);
        return;
    }
    if (mw_pgp_kc_count >= MW_PGP_KEYCACHE_MAX)
        mw_pgp_kc_empty();
    if ((e = *(pp = mw_pgp_kc_find(folded, !!secret))) != NULL) {
        gpgme_key_unref(e->key);
    } else {
        e = mw_calloc(1, sizeof(*e));
        e->secret = !!secret;
        memcpy(e->addr, folded, strlen(folded) + 1);
        *pp = e;
        mw_pgp_kc_count++;
    }
    if (key != NULL)
        gpgme_key_ref(key);
    e->key = key;
    clock_gettime(CLOCK_MONOTONIC, &e->at);
    pthread_mutex_unlock(&mw_pgp_kc_lock);
}

void
mw_pgp_keycache_clear(void)
{
    pthread_mutex_lock(&mw_pgp_kc_lock);
    mw_pgp_kc_empty();
    mw_pgp_kc_gen++;
    mw_free(&mw_pgp_kc_home);
    pthread_mutex_unlock(&mw_pgp_kc_lock);
}
