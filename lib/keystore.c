/*
 * keystore.c - the OpenPGP keystore on GPGME (see mw/keystore.h).
 *
 * SYNOPSIS
 *   mw_keystore_open / close / ctx
 *   mw_keystore_generate / import / export / delete
 *
 * DESCRIPTION
 *   One GPGME context per keystore, bound to the home with
 *   gpgme_ctx_set_engine_info(), so several homes can be open in one
 *   process. The passphrase reaches gpg through loopback pinentry: the
 *   passphrase callback writes it to the fd gpg gives us; it is never put on
 *   a command line, in the environment or in a file. After a refusal the
 *   callback gives up instead of looping.
 *
 *   Listing and the choice of the default key are in keystore-list.c, the
 *   defaults file in keystore-defaults.c.
 *
 *   Errors name the address or fingerprint and GnuPG's reason.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "keystore-int.h"
#include "mw/alloc.h"

extern char **environ;

static gpgme_error_t
keystore_passphrase_cb(void *arg, const char *hint, const char *info, int prev_bad, int fd)
{
    struct mw_keystore *ks = arg;

    (void)hint;
    (void)info;
    if (prev_bad || ks->passphrase == NULL) {
        gpgme_io_writen(fd, "\n", 1);
        return gpgme_error(prev_bad ? GPG_ERR_BAD_PASSPHRASE : GPG_ERR_NO_PASSPHRASE);
    }
    if (gpgme_io_writen(fd, ks->passphrase, strlen(ks->passphrase)) < 0 ||
        gpgme_io_writen(fd, "\n", 1) < 0)
        return gpgme_error_from_syserror();
    return 0;
}

static int
keystore_home(const char *home, int flags, struct mw_err *err)
{
    struct stat st;

    if (home == NULL || home[0] != '/')
        return mw_err_set(err, "GnuPG home \"%s\": not an absolute path", home ? home : "");
    if (strlen(home) > MW_KEYSTORE_HOME_MAX)
        return mw_err_set(err, "GnuPG home %s: longer than %d bytes (gpg-agent socket paths "
                          "are limited)", home, MW_KEYSTORE_HOME_MAX);
    if ((flags & MW_KEYSTORE_CREATE) && mkdir(home, 0700) < 0 && errno != EEXIST)
        return mw_err_set(err, "GnuPG home %s: %s", home, strerror(errno));
    if (stat(home, &st) < 0)
        return mw_err_set(err, "GnuPG home %s: %s", home, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return mw_err_set(err, "GnuPG home %s: not a directory", home);
    return (flags & MW_KEYSTORE_CREATE) ? mw_keystore_gpgconf(home, err) : 0;
}

/* Run gpgconf --homedir HOME ARG1 ARG2; its first output line (if out) to out. */
static int
keystore_gpgconf(const char *home, const char *a1, const char *a2, char *out, size_t outlen)
{
    const char *gpgconf = gpgme_get_dirinfo("gpgconf-name");
    char *argv[] = {"gpgconf", "--homedir", (char *)home, (char *)a1, (char *)a2, NULL};
    posix_spawn_file_actions_t fa;
    int pfd[2], status, rc;
    ssize_t n = 0, got;
    pid_t pid;

    if (pipe2(pfd, O_CLOEXEC) < 0)
        return -1;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    rc = posix_spawnp(&pid, gpgconf ? gpgconf : "gpgconf", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    while (rc == 0 && out != NULL && (size_t)n + 1 < outlen &&
           ((got = read(pfd[0], out + n, outlen - 1 - (size_t)n)) > 0 || (got < 0 && errno == EINTR)))
        n += got > 0 ? got : 0;
    close(pfd[0]);
    if (out != NULL) {
        out[n] = '\0';
        out[strcspn(out, "\n")] = '\0';
    }
    if (rc != 0)
        return -1;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Is a gpg-agent listening for home? (Then it is not ours to stop.) */
static int
keystore_agent_running(const char *home)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd, up;

    if (keystore_gpgconf(home, "--list-dirs", "agent-socket", sun.sun_path,
                         sizeof(sun.sun_path)) < 0 || sun.sun_path[0] == '\0')
        return 1; /* unknown: leave it alone */
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return 1;
    up = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
    close(fd);
    return up;
}

int
mw_keystore_gpgconf(const char *home, struct mw_err *err)
{
    static const char *const want[] = {"s2k-cipher-algo AES256", "s2k-digest-algo SHA512",
                                       "s2k-mode 3"};
    char path[MW_KEYSTORE_HOME_MAX + 32], tmp[MW_KEYSTORE_HOME_MAX + 64], chunk[4096];
    struct mw_buf b;
    size_t before, n;
    FILE *f;
    int fd, ok;

    snprintf(path, sizeof(path), "%s/gpg.conf", home);
    mw_buf_init(&b);
    if ((f = fopen(path, "r")) != NULL) {
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < 65536)
            mw_buf_append(&b, chunk, n);
        fclose(f);
    }
    if (b.len > 0 && b.data[b.len - 1] != '\n')
        mw_buf_putc(&b, '\n');
    before = b.len;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        size_t kl = strcspn(want[i], " ");
        int found = 0;
        for (const char *l = b.data; l != NULL && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
            found |= strncmp(l, want[i], kl) == 0 && (l[kl] == ' ' || l[kl] == '\t');
        if (!found)
            mw_buf_printf(&b, "%s\n", want[i]);
    }
    if (b.len == before) {
        mw_buf_release(&b);
        return 0;
    }
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    ok = fd >= 0 && write(fd, b.data, b.len) == (ssize_t)b.len && fsync(fd) == 0;
    ok = (fd < 0 || close(fd) == 0) && ok && rename(tmp, path) == 0;
    mw_buf_release(&b);
    if (!ok) {
        int e = errno;
        unlink(tmp);
        return mw_err_set(err, "%s: %s", path, strerror(e));
    }
    return 0;
}

struct mw_keystore *
mw_keystore_open(const char *home, const char *passphrase, int flags, struct mw_err *err)
{
    struct mw_keystore *ks;
    gpgme_error_t ge;

    if (keystore_home(home, flags, err) < 0)
        return NULL;
    gpgme_check_version(NULL);
    if ((flags & MW_KEYSTORE_STOP_AGENT) && keystore_agent_running(home))
        flags &= ~MW_KEYSTORE_STOP_AGENT; /* someone else's agent (the milter's) */
    ks = mw_calloc(1, sizeof(*ks));
    ks->home = mw_strdup(home);
    ks->passphrase = mw_strdup(passphrase);
    ks->flags = flags;
    if ((ge = gpgme_new(&ks->ctx)) != 0 ||
        (ge = gpgme_set_protocol(ks->ctx, GPGME_PROTOCOL_OpenPGP)) != 0 ||
        (ge = gpgme_ctx_set_engine_info(ks->ctx, GPGME_PROTOCOL_OpenPGP, NULL, home)) != 0 ||
        (ge = gpgme_set_pinentry_mode(ks->ctx, GPGME_PINENTRY_MODE_LOOPBACK)) != 0) {
        mw_err_set(err, "GnuPG home %s: %s", home, gpgme_strerror(ge));
        ks->flags &= ~MW_KEYSTORE_STOP_AGENT;
        mw_keystore_close(&ks);
        return NULL;
    }
    gpgme_set_armor(ks->ctx, 1);
    gpgme_set_offline(ks->ctx, 1);
    gpgme_set_passphrase_cb(ks->ctx, keystore_passphrase_cb, ks);
    return ks;
}

void
mw_keystore_close(struct mw_keystore **ksp)
{
    struct mw_keystore *ks = *ksp;

    if (ks == NULL)
        return;
    if (ks->ctx != NULL)
        gpgme_release(ks->ctx);
    if (ks->flags & MW_KEYSTORE_STOP_AGENT)
        keystore_gpgconf(ks->home, "--kill", "gpg-agent", NULL, 0);
    if (ks->passphrase != NULL) {
        mw_wipe(ks->passphrase, strlen(ks->passphrase));
        mw_free(&ks->passphrase);
    }
    mw_free(&ks->home);
    mw_free(ksp);
}

gpgme_ctx_t
mw_keystore_ctx(struct mw_keystore *ks)
{
    return ks->ctx;
}

int
mw_keystore_algo_parse(const char *name, enum mw_keystore_algo *algo)
{
    if (strcmp(name, "ed25519") == 0)
        *algo = MW_KEYSTORE_ED25519;
    else if (strcmp(name, "rsa3072") == 0)
        *algo = MW_KEYSTORE_RSA3072;
    else if (strcmp(name, "rsa4096") == 0)
        *algo = MW_KEYSTORE_RSA4096;
    else
        return -1;
    return 0;
}

int
mw_keystore_generate(struct mw_keystore *ks, const char *address, enum mw_keystore_algo algo,
                     unsigned expire_days, char fpr[MW_KEYSTORE_FPR_MAX], struct mw_err *err)
{
    static const char *const prim[] = {"ed25519", "rsa3072", "rsa4096"};
    static const char *const sub[] = {"cv25519", "rsa3072", "rsa4096"};
    unsigned long expires = (unsigned long)expire_days * 86400UL;
    unsigned flags = GPGME_CREATE_FORCE | (expire_days ? 0 : GPGME_CREATE_NOEXPIRE);
    gpgme_genkey_result_t res;
    gpgme_key_t key = NULL;
    gpgme_error_t ge;
    char uid[300];

    if (!mw_keystore_address_ok(address, strlen(address)))
        return mw_err_set(err, "\"%s\": not a mail address", address);
    if (ks->passphrase == NULL || ks->passphrase[0] == '\0')
        return mw_err_set(err, "no passphrase: secret keys are only made passphrase-protected");
    if (expire_days > 36500)
        return mw_err_set(err, "expiry of %u days is more than 100 years", expire_days);
    snprintf(uid, sizeof(uid), "<%s>", address);
    ge = gpgme_op_createkey(ks->ctx, uid, prim[algo], 0, expires, NULL,
                            flags | GPGME_CREATE_SIGN | GPGME_CREATE_CERT);
    if (ge != 0)
        return mw_err_set(err, "%s: key generation failed: %s", address, gpgme_strerror(ge));
    res = gpgme_op_genkey_result(ks->ctx);
    if (res == NULL || res->fpr == NULL || strlen(res->fpr) >= MW_KEYSTORE_FPR_MAX)
        return mw_err_set(err, "%s: key generation gave no fingerprint", address);
    snprintf(fpr, MW_KEYSTORE_FPR_MAX, "%s", res->fpr);
    ge = gpgme_get_key(ks->ctx, fpr, &key, 1);
    if (ge == 0)
        ge = gpgme_op_createsubkey(ks->ctx, key, sub[algo], 0, expires,
                                   (flags & ~GPGME_CREATE_FORCE) | GPGME_CREATE_ENCR);
    if (key != NULL)
        gpgme_key_unref(key);
    if (ge != 0) {
        char msg[MW_ERR_MAX];
        snprintf(msg, sizeof(msg), "%s", gpgme_strerror(ge));
        mw_keystore_delete(ks, fpr, err);
        return mw_err_set(err, "%s: encryption subkey failed: %s", address, msg);
    }
    return 0;
}

static int
keystore_data_out(gpgme_data_t d, struct mw_buf *out)
{
    char chunk[4096];
    ssize_t n;

    if (gpgme_data_seek(d, 0, SEEK_SET) < 0)
        return -1;
    while ((n = gpgme_data_read(d, chunk, sizeof(chunk))) > 0)
        mw_buf_append(out, chunk, (size_t)n);
    return n < 0 ? -1 : 0;
}

int
mw_keystore_import(struct mw_keystore *ks, const void *data, size_t len,
                   struct mw_keystore_import_result *res, struct mw_err *err)
{
    gpgme_import_result_t r;
    gpgme_data_t d;
    gpgme_error_t ge;

    memset(res, 0, sizeof(*res));
    if (len == 0)
        return mw_err_set(err, "no data to import");
    if ((ge = gpgme_data_new_from_mem(&d, data, len, 0)) != 0)
        return mw_err_set(err, "import: %s", gpgme_strerror(ge));
    ge = gpgme_op_import(ks->ctx, d);
    gpgme_data_release(d);
    r = ge == 0 ? gpgme_op_import_result(ks->ctx) : NULL;
    if (ge != 0 || r == NULL)
        return mw_err_set(err, "import failed: %s", gpgme_strerror(ge));
    res->considered = r->considered;
    res->imported = r->imported;
    res->unchanged = r->unchanged;
    res->secret_read = r->secret_read;
    res->secret_imported = r->secret_imported;
    res->secret_unchanged = r->secret_unchanged;
    res->not_imported = r->not_imported;
    if (r->considered == 0 && r->secret_read == 0)
        return mw_err_set(err, "no OpenPGP keys found in the data");
    if (r->not_imported > 0 && r->imported + r->unchanged + r->secret_imported +
                                   r->secret_unchanged == 0)
        return mw_err_set(err, "GnuPG refused all %d keys (%s)", r->not_imported,
                          r->imports && r->imports->result ? gpgme_strerror(r->imports->result)
                                                           : "invalid keys");
    return 0;
}

int
mw_keystore_export(struct mw_keystore *ks, const char *address, int secret, struct mw_buf *out,
                   struct mw_err *err)
{
    struct mw_keystore_key *keys = NULL;
    gpgme_key_t *gk;
    gpgme_data_t d;
    gpgme_error_t ge = 0;
    size_t n = 0, m = 0;
    int rc = -1;

    if (mw_keystore_list(ks, address, &keys, &n, err) < 0)
        return -1;
    gk = mw_calloc(n + 1, sizeof(*gk));
    for (size_t i = 0; i < n && ge == 0; i++)
        if (!secret || keys[i].has_secret)
            if ((ge = gpgme_get_key(ks->ctx, keys[i].fpr, &gk[m], secret)) == 0)
                m++;
    if (ge != 0)
        mw_err_set(err, "%s: %s", address, gpgme_strerror(ge));
    else if (m == 0)
        mw_err_set(err, "%s: no %s keys", address, secret ? "secret" : "");
    else if ((ge = gpgme_data_new(&d)) != 0)
        mw_err_set(err, "export: %s", gpgme_strerror(ge));
    else {
        ge = gpgme_op_export_keys(ks->ctx, gk, secret ? GPGME_EXPORT_MODE_SECRET : 0, d);
        if (ge != 0 || keystore_data_out(d, out) < 0 || out->len == 0)
            mw_err_set(err, "%s: export failed: %s", address,
                       ge ? gpgme_strerror(ge) : "no data (wrong passphrase?)");
        else
            rc = 0;
        gpgme_data_release(d);
    }
    for (size_t i = 0; i < m; i++)
        gpgme_key_unref(gk[i]);
    mw_free(&gk);
    mw_keystore_keys_free(&keys, n);
    return rc;
}

int
mw_keystore_delete(struct mw_keystore *ks, const char *fpr, struct mw_err *err)
{
    struct mw_keystore_defaults map;
    gpgme_key_t key = NULL;
    gpgme_error_t ge;
    int changed = 0;

    if (!mw_keystore_fpr_ok(fpr, strlen(fpr)))
        return mw_err_set(err, "\"%s\": not a full fingerprint (40 or 64 hex digits)", fpr);
    ge = gpgme_get_key(ks->ctx, fpr, &key, 0);
    if (ge == 0 && strcasecmp(key->fpr, fpr) != 0) {
        gpgme_key_unref(key);
        ge = gpgme_error(GPG_ERR_NO_PUBKEY);
    }
    if (ge != 0)
        return mw_err_set(err, "%s: key not found", fpr);
    ge = gpgme_op_delete_ext(ks->ctx, key, GPGME_DELETE_ALLOW_SECRET | GPGME_DELETE_FORCE);
    gpgme_key_unref(key);
    if (ge != 0)
        return mw_err_set(err, "%s: delete failed: %s", fpr, gpgme_strerror(ge));
    /* Drop defaults entries naming the deleted key. */
    if (mw_keystore_defaults_read(ks->home, &map, err) < 0)
        return -1;
    for (size_t i = map.n; i-- > 0;)
        if (strcasecmp(map.entries[i].fpr, fpr) == 0) {
            char *a = mw_strdup(map.entries[i].address);
            mw_keystore_defaults_set(&map, a, NULL);
            mw_free(&a);
            changed = 1;
        }
    if (changed && mw_keystore_defaults_write(ks->home, &map, err) < 0) {
        mw_keystore_defaults_release(&map);
        return -1;
    }
    mw_keystore_defaults_release(&map);
    return 0;
}
