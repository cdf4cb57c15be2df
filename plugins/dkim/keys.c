/*
 * keys.c - the dkim plugin's signing configuration: tables, private keys and
 * the signing libopendkim handle, loaded as a whole or not at all (sign.h).
 *
 * A private key is refused unless it passes the secret file check of
 * mw/fileperm.h (owned by root or the run user, no access for others), the
 * tables unless they pass its table check; a key must also hold one
 * unencrypted PEM private key, RSA of 1024 bits at least (RFC 8301 §3.2) or Ed25519 (RFC 8463), and
 * libopendkim signs a small test message with it. libopendkim 2.11 takes
 * both kinds as PEM text: it reads them with PEM_read_bio_PrivateKey (it
 * rejects the base64 DER form of an Ed25519 key), so the file's text is
 * handed over unchanged.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "dkim/sign.h"
#include "mw/alloc.h"
#include "mw/buf.h"
#include "mw/fileperm.h"

/* Read a whole file of at most max bytes that passes the permission check of kind. */
static int
mw_dkim_read_file(const char *path, size_t max, enum mw_fileperm_kind kind, const char *run_user,
                  struct mw_buf *b, struct mw_err *err)
{
    struct stat st;
    char chunk[8192];
    ssize_t r;
    int fd;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
        return mw_err_set(err, "%s: %s", path, strerror(errno));
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return mw_err_set(err, "%s: not a regular file", path);
    }
    if (mw_fileperm_stat(&st, path, kind, run_user, err) < 0) {
        close(fd);
        return -1;
    }
    while ((r = read(fd, chunk, sizeof(chunk))) > 0) {
        if (b->len + (size_t)r > max) {
            r = -1;
            errno = EFBIG;
            break;
        }
        mw_buf_append(b, chunk, (size_t)r);
    }
    mw_wipe(chunk, sizeof(chunk));
    close(fd);
    if (r < 0)
        return mw_err_set(err, "%s: read: %s", path, strerror(errno));
    return 0;
}

/* Never prompt for a passphrase: an encrypted key is refused. */
static int
mw_dkim_nopass(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

/* The key's algorithm from its PEM text; -1 with err if unusable. */
static int
mw_dkim_key_kind(const char *path, const struct mw_buf *pem, dkim_alg_t *alg, struct mw_err *err)
{
    BIO *bio = BIO_new_mem_buf(pem->data, (int)pem->len);
    EVP_PKEY *pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, mw_dkim_nopass, NULL) : NULL;
    int rc = 0;

    BIO_free(bio);
    if (pk == NULL)
        return mw_err_set(err, "%s: not an unencrypted PEM private key", path);
    if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA) {
        *alg = DKIM_SIGN_RSASHA256;
        if (EVP_PKEY_get_bits(pk) < 1024)
            rc = mw_err_set(err, "%s: RSA key of %d bits (1024 at least, RFC 8301)", path,
                            EVP_PKEY_get_bits(pk));
    } else if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_ED25519) {
        *alg = DKIM_SIGN_ED25519SHA256;
    } else {
        rc = mw_err_set(err, "%s: neither an RSA nor an Ed25519 key", path);
    }
    EVP_PKEY_free(pk);
    return rc;
}

/* Sign a tiny message with the key: what libopendkim refuses is found at start, not per message. */
static int
mw_dkim_key_try(DKIM_LIB *lib, const char *path, const struct mw_dkim_signkey *k,
                struct mw_err *err)
{
    static const char hdr[] = "From: test@example.org";
    DKIM_STAT st = DKIM_STAT_OK;
    DKIM *d = dkim_sign(lib, (const unsigned char *)"keycheck", NULL, k->pem,
                        (const unsigned char *)"test", (const unsigned char *)"example.org",
                        DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, k->alg, -1, &st);
    unsigned char body[] = "test\r\n";

    if (d == NULL)
        return mw_err_set(err, "%s: libopendkim refuses the key: %s", path, dkim_getresultstr(st));
    st = dkim_header(d, (unsigned char *)hdr, sizeof(hdr) - 1);
    if (st == DKIM_STAT_OK)
        st = dkim_eoh(d);
    if (st == DKIM_STAT_OK)
        st = dkim_body(d, body, sizeof(body) - 1);
    if (st == DKIM_STAT_OK)
        st = dkim_eom(d, NULL);
    if (st != DKIM_STAT_OK) {
        const char *why = dkim_geterror(d);
        mw_err_set(err, "%s: libopendkim cannot sign with the key: %s", path,
                   why != NULL ? why : dkim_getresultstr(st));
        dkim_free(d);
        return -1;
    }
    dkim_free(d);
    return 0;
}

static int
mw_dkim_key_load(DKIM_LIB *lib, const char *path, const char *run_user, struct mw_dkim_signkey *k,
                 struct mw_err *err)
{
    struct mw_buf b;

    mw_buf_init(&b);
    if (mw_dkim_read_file(path, MW_DKIM_KEYFILE_MAX, MW_FILEPERM_SECRET, run_user, &b, err) < 0 ||
        mw_dkim_key_kind(path, &b, &k->alg, err) < 0) {
        mw_wipe(b.data, b.len);
        mw_buf_release(&b);
        return -1;
    }
    k->len = b.len;
    mw_buf_putc(&b, '\0');
    k->pem = (unsigned char *)mw_buf_steal(&b);
    return mw_dkim_key_try(lib, path, k, err);
}

int
mw_dkim_header_names_check(const char *value, struct mw_err *err)
{
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == ' ' || *p == '\t' || *p == ','))
            return mw_err_set(err, "header names may hold letters, digits and '-' only");
    return 0;
}

static char **
mw_dkim_lower_list(const struct mw_config *cfg, const char *key)
{
    size_t n;
    char **v = mw_config_list(cfg, "dkim", key, &n);

    if (n == 0 && strcmp(key, "sign_headers") == 0) {
        mw_strv_free(&v);
        v = mw_strv_split(MW_DKIM_SIGN_HEADERS, NULL);
    }

    for (char **p = v; *p; p++)
        for (char *c = *p; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
    return v;
}

/* The libopendkim handle and header lists; canonicalization. */
static int
mw_dkim_lib_setup(struct mw_dkim_signcfg *sc, const struct mw_config *cfg, struct mw_err *err)
{
    const char *canon = mw_config_str(cfg, "dkim", "canonicalization");
    bool from = false;

    sc->hcanon = strncmp(canon, "relaxed", 7) == 0 ? DKIM_CANON_RELAXED : DKIM_CANON_SIMPLE;
    canon = strchr(canon, '/');
    sc->bcanon = canon && strcmp(canon, "/relaxed") == 0 ? DKIM_CANON_RELAXED : DKIM_CANON_SIMPLE;
    sc->signhdrs = mw_dkim_lower_list(cfg, "sign_headers");
    sc->oversign = mw_dkim_lower_list(cfg, "oversign_headers");
    for (char **p = sc->signhdrs; *p; p++)
        from = from || strcmp(*p, "from") == 0;
    if (!from)
        return mw_err_set(err, "[dkim] sign_headers must list From (RFC 6376 §5.4)");
    if ((sc->lib = dkim_init(NULL, NULL)) == NULL)
        return mw_err_set(err, "dkim: libopendkim initialisation failed");
    if (dkim_options(sc->lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, sc->signhdrs, sizeof(char **)) !=
            DKIM_STAT_OK ||
        dkim_options(sc->lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS, sc->oversign,
                     sizeof(char **)) != DKIM_STAT_OK)
        return mw_err_set(err, "dkim: libopendkim refuses the header lists");
    return 0;
}

/*
 * libopendkim 2.11 makes ed25519-sha256 signatures that no verifier accepts
 * when the header canonicalization is simple (measured with dkimpy and
 * opendkim; rsa-sha256 is fine): refuse rather than send broken signatures.
 */
static int
mw_dkim_canon_check(const struct mw_dkim_signcfg *sc, size_t i, struct mw_err *err)
{
    if (sc->keys[i].alg != DKIM_SIGN_ED25519SHA256 || sc->hcanon != DKIM_CANON_SIMPLE)
        return 0;
    return mw_err_set(err,
                      "%s: an ed25519 key needs relaxed header canonicalization (libopendkim "
                      "signs ed25519 wrongly with simple)",
                      sc->kt->v[i].path);
}

/* Read a table file; "refile:PATH" sets *regex. */
static int
mw_dkim_table_read(const char *spec, const char *run_user, bool *regex, const char **path,
                   struct mw_buf *b, struct mw_err *err)
{
    *regex = strncmp(spec, "refile:", 7) == 0;
    *path = *regex ? spec + 7 : spec;
    if (strncmp(*path, "file:", 5) == 0)
        *path += 5;
    return mw_dkim_read_file(*path, MW_DKIM_TABLEFILE_MAX, MW_FILEPERM_TABLE, run_user, b, err);
}

static int
mw_dkim_tables_load(struct mw_dkim_signcfg *sc, const char *ktspec, const char *stspec,
                    const char *run_user, struct mw_err *err)
{
    struct mw_buf b;
    const char *path;
    bool regex;
    int rc;

    mw_buf_init(&b);
    rc = mw_dkim_table_read(ktspec, run_user, &regex, &path, &b, err);
    if (rc == 0 && regex)
        rc = mw_err_set(err, "[dkim] key_table: refile: is for the signing table only");
    if (rc == 0)
        rc = mw_dkim_keytable_parse(path, b.data, b.len, &sc->kt, err);
    mw_buf_reset(&b);
    if (rc == 0)
        rc = mw_dkim_table_read(stspec, run_user, &regex, &path, &b, err);
    if (rc == 0)
        rc = mw_dkim_signtable_parse(path, b.data, b.len, regex, sc->kt, &sc->st, err);
    mw_buf_release(&b);
    return rc;
}

int
mw_dkim_signcfg_load(const struct mw_config *cfg, struct mw_dkim_signcfg **out, struct mw_err *err)
{
    const char *ktspec = mw_config_str(cfg, "dkim", "key_table");
    const char *stspec = mw_config_str(cfg, "dkim", "signing_table");
    const char *run_user = mw_config_str(cfg, "general", "user");
    struct mw_dkim_signcfg *sc;

    *out = NULL;
    if (!mw_config_bool(cfg, "dkim", "sign") || (*ktspec == '\0' && *stspec == '\0'))
        return 0;
    if (*ktspec == '\0' || *stspec == '\0')
        return mw_err_set(err, "[dkim] signing needs both key_table and signing_table");
    sc = mw_calloc(1, sizeof(*sc));
    sc->refs = 1;
    if (mw_dkim_lib_setup(sc, cfg, err) < 0 ||
        mw_dkim_tables_load(sc, ktspec, stspec, run_user, err) < 0) {
        mw_dkim_signcfg_unref(&sc);
        return -1;
    }
    sc->keys = mw_calloc(sc->kt->n ? sc->kt->n : 1, sizeof(*sc->keys));
    for (size_t i = 0; i < sc->kt->n; i++)
        if (mw_dkim_key_load(sc->lib, sc->kt->v[i].path, run_user, &sc->keys[i], err) < 0 ||
            mw_dkim_canon_check(sc, i, err) < 0) {
            mw_dkim_signcfg_unref(&sc);
            return -1;
        }
    *out = sc;
    return 0;
}

struct mw_dkim_signcfg *
mw_dkim_signcfg_ref(struct mw_dkim_signcfg *sc)
{
    __atomic_add_fetch(&sc->refs, 1, __ATOMIC_RELAXED);
    return sc;
}

void
mw_dkim_signcfg_unref(struct mw_dkim_signcfg **scp)
{
    struct mw_dkim_signcfg *sc = *scp;

    *scp = NULL;
    if (sc == NULL || __atomic_sub_fetch(&sc->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    for (size_t i = 0; sc->keys != NULL && sc->kt != NULL && i < sc->kt->n; i++)
        if (sc->keys[i].pem != NULL) {
            mw_wipe(sc->keys[i].pem, sc->keys[i].len);
            mw_free(&sc->keys[i].pem);
        }
    mw_free(&sc->keys);
    mw_dkim_signtable_free(&sc->st);
    mw_dkim_keytable_free(&sc->kt);
    if (sc->lib != NULL)
        dkim_close(sc->lib);
    if (sc->signhdrs != NULL)
        mw_strv_free(&sc->signhdrs);
    if (sc->oversign != NULL)
        mw_strv_free(&sc->oversign);
    mw_free(&sc);
}
