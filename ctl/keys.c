/*
 * keys.c - "mailwardctl keys": the OpenPGP keystore from the shell.
 *
 * SYNOPSIS
 *   mailwardctl [-c FILE] [--json] keys [--home DIR] [--passphrase-file FILE] SUBCOMMAND
 *     generate ADDRESS [--algo ed25519|rsa3072|rsa4096] [--expire DAYS|never]
 *     import FILE|-
 *     export ADDRESS [--secret]
 *     list [ADDRESS]
 *     delete FPR
 *     default ADDRESS [FPR]
 *
 * DESCRIPTION
 *   The home and the passphrase come from [pgp] gnupg_home and
 *   [pgp] passphrase_file (the first line of that file), as the milter's pgp
 *   plugin reads them; --home and --passphrase-file override them. The
 *   configuration is read without validation when it cannot be validated,
 *   so keys can be managed before the pgp plugin is enabled.
 *
 *   Exit codes (sysexits.h): 64 usage, 65 bad data (garbage import, unknown
 *   fingerprint, a key that cannot be the default), 66 input file missing,
 *   67 an address without keys, 70 a GnuPG failure, 78 configuration.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "ctl.h"
#include "mw/alloc.h"
#include "mw/config.h"
#include "mw/keystore.h"
#include "mw/log.h"

#define KEYS_HOME_DEFAULT "/var/lib/mailward/gnupg"
#define KEYS_IMPORT_MAX (64 * 1024 * 1024)

struct keys_opts {
    const char *home;
    const char *passphrase_file;
};

static void
keys_usage(void)
{
    fprintf(stderr,
            "usage: mailwardctl keys [--home DIR] [--passphrase-file FILE] SUBCOMMAND\n"
            "  generate ADDRESS [--algo ed25519|rsa3072|rsa4096] [--expire DAYS|never]\n"
            "  import FILE|-\n"
            "  export ADDRESS [--secret]\n"
            "  list [ADDRESS]\n"
            "  delete FPR\n"
            "  default ADDRESS [FPR]\n");
}

/* Read a whole file ("-" = stdin), at most max bytes. 0, or an EX_ code. */
static int
keys_slurp(const char *path, size_t max, struct mw_buf *out)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char chunk[8192];
    size_t n;
    int bad;

    if (f == NULL) {
        fprintf(stderr, "mailwardctl: %s: %s\n", path, strerror(errno));
        return errno == ENOENT ? EX_NOINPUT : EX_IOERR;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && out->len <= max)
        mw_buf_append(out, chunk, n);
    bad = ferror(f);
    if (f != stdin)
        fclose(f);
    if (bad) {
        fprintf(stderr, "mailwardctl: %s: read error\n", path);
        return EX_IOERR;
    }
    if (out->len > max) {
        fprintf(stderr, "mailwardctl: %s: larger than %zu bytes\n", path, max);
        return EX_DATAERR;
    }
    return 0;
}

/* The passphrase file's first line, like the pgp plugin reads it. */
static int
keys_passphrase(const char *path, char **out)
{
    struct mw_buf b;
    int rc;

    *out = NULL;
    if (path == NULL || *path == '\0')
        return 0;
    mw_buf_init(&b);
    rc = keys_slurp(path, 1024, &b);
    if (rc == 0) {
        b.data[strcspn(b.data, "\r\n")] = '\0';
        *out = mw_strdup(b.data);
    }
    mw_wipe(b.data, b.cap);
    mw_buf_release(&b);
    return rc ? EX_CONFIG : 0;
}

/*
 * [pgp] key from the configuration file, read without validation (the pgp
 * plugin need not be enabled yet), else def. NULL if the file is bad.
 */
static const char *
keys_config(struct mw_ctl *ctl, const char *key, const char *def)
{
    const char *v;

    if (ctl->cfg == NULL) {
        struct mw_err err;
        ctl->cfg = mw_config_load(ctl->config_path, !ctl->config_given, &err);
        if (ctl->cfg == NULL) {
            fprintf(stderr, "mailwardctl: %s\n", err.text);
            return NULL;
        }
    }
    v = mw_config_raw(ctl->cfg, "pgp", key);
    return v != NULL ? v : def;
}

static void
keys_print_key(struct mw_ctl *ctl, struct mw_buf *b, const struct mw_keystore_key *k)
{
    char exp[32] = "never";

    if (k->expires != 0) {
        struct tm tm;
        gmtime_r(&k->expires, &tm);
        strftime(exp, sizeof(exp), "%Y-%m-%d", &tm);
    }
    if (!ctl->json) {
        mw_buf_printf(b, "%s %s %s expires:%s%s%s%s\n", k->address, k->fpr, k->algo, exp,
                      k->has_secret ? " secret" : "", k->is_default ? " default" : "",
                      k->usable ? "" : " unusable");
        return;
    }
    mw_buf_puts(b, "{\"address\":");
    mw_ctl_json_string(b, k->address);
    mw_buf_puts(b, ",\"fingerprint\":");
    mw_ctl_json_string(b, k->fpr);
    mw_buf_puts(b, ",\"algo\":");
    mw_ctl_json_string(b, k->algo);
    mw_buf_printf(b, ",\"created\":%lld,\"expires\":", (long long)k->created);
    if (k->expires)
        mw_buf_printf(b, "%lld", (long long)k->expires);
    else
        mw_buf_puts(b, "null");
    mw_buf_printf(b, ",\"secret\":%s,\"default\":%s,\"usable\":%s,\"sign\":%s,\"encrypt\":%s}",
                  k->has_secret ? "true" : "false", k->is_default ? "true" : "false",
                  k->usable ? "true" : "false", k->can_sign ? "true" : "false",
                  k->can_encrypt ? "true" : "false");
}

static int
keys_list(struct mw_ctl *ctl, struct mw_keystore *ks, const char *address)
{
    struct mw_keystore_key *keys;
    struct mw_err err;
    struct mw_buf b;
    size_t n;

    if (mw_keystore_list(ks, address, &keys, &n, &err) < 0) {
        fprintf(stderr, "mailwardctl: %s\n", err.text);
        return EX_DATAERR;
    }
    mw_buf_init(&b);
    mw_buf_puts(&b, ctl->json ? "[" : "");
    for (size_t i = 0; i < n; i++) {
        mw_buf_puts(&b, ctl->json && i ? "," : "");
        keys_print_key(ctl, &b, &keys[i]);
    }
    mw_buf_puts(&b, ctl->json ? "]\n" : "");
    fputs(b.data, stdout);
    mw_buf_release(&b);
    mw_keystore_keys_free(&keys, n);
    if (address != NULL && n == 0) {
        fprintf(stderr, "mailwardctl: %s: no keys for this address\n", address);
        return EX_NOUSER;
    }
    return EX_OK;
}

/* Does the keystore hold fpr? 1 yes, 0 no, -1 error (printed). */
static int
keys_known(struct mw_keystore *ks, const char *fpr)
{
    struct mw_keystore_key *keys;
    struct mw_err err;
    size_t n;
    int found = 0;

    if (mw_keystore_list(ks, NULL, &keys, &n, &err) < 0) {
        fprintf(stderr, "mailwardctl: %s\n", err.text);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        found |= strcasecmp(keys[i].fpr, fpr) == 0;
    mw_keystore_keys_free(&keys, n);
    return found;
}

static int
keys_generate(struct mw_ctl *ctl, struct mw_keystore *ks, int argc, char **argv)
{
    enum mw_keystore_algo algo = MW_KEYSTORE_ED25519;
    const char *algo_name = "ed25519";
    unsigned long days = 0;
    char fpr[MW_KEYSTORE_FPR_MAX];
    struct mw_err err;

    for (int i = 2; i < argc; i++) {
        char *end;
        if (strcmp(argv[i], "--algo") == 0 && i + 1 < argc) {
            algo_name = argv[++i];
            if (mw_keystore_algo_parse(algo_name, &algo) < 0) {
                fprintf(stderr, "mailwardctl: unknown algorithm \"%s\"\n", algo_name);
                return EX_USAGE;
            }
        } else if (strcmp(argv[i], "--expire") == 0 && i + 1 < argc) {
            if (strcmp(argv[++i], "never") == 0) {
                days = 0;
                continue;
            }
            errno = 0;
            days = strtoul(argv[i], &end, 10);
            if (errno || *end || end == argv[i] || argv[i][0] == '-' || days == 0 ||
                days > 36500) {
                fprintf(stderr, "mailwardctl: --expire wants 1..36500 days or never\n");
                return EX_USAGE;
            }
        } else {
            keys_usage();
            return EX_USAGE;
        }
    }
    if (mw_keystore_generate(ks, argv[1], algo, (unsigned)days, fpr, &err) < 0) {
        fprintf(stderr, "mailwardctl: %s\n", err.text);
        return strstr(err.text, "not a mail address") ? EX_DATAERR
               : strstr(err.text, "passphrase")       ? EX_CONFIG
                                                      : EX_SOFTWARE;
    }
    if (ctl->json)
        printf("{\"address\":\"%s\",\"fingerprint\":\"%s\",\"algo\":\"%s\",\"expire_days\":%lu}\n",
               argv[1], fpr, algo_name, days);
    else
        printf("%s %s\n", argv[1], fpr);
    return EX_OK;
}

static int
keys_import(struct mw_ctl *ctl, struct mw_keystore *ks, const char *path)
{
    struct mw_keystore_import_result r;
    struct mw_err err;
    struct mw_buf data;
    int rc;

    mw_buf_init(&data);
    rc = keys_slurp(path, KEYS_IMPORT_MAX, &data);
    if (rc == 0 && mw_keystore_import(ks, data.data, data.len, &r, &err) < 0) {
        fprintf(stderr, "mailwardctl: %s: %s\n", path, err.text);
        rc = EX_DATAERR;
    }
    mw_wipe(data.data, data.cap);
    mw_buf_release(&data);
    if (rc != 0)
        return rc;
    if (ctl->json)
        printf("{\"considered\":%d,\"imported\":%d,\"unchanged\":%d,\"secret_read\":%d,"
               "\"secret_imported\":%d,\"secret_unchanged\":%d,\"not_imported\":%d}\n",
               r.considered, r.imported, r.unchanged, r.secret_read, r.secret_imported,
               r.secret_unchanged, r.not_imported);
    else
        printf("%s: %d keys: %d new, %d unchanged; secret keys: %d new, %d unchanged%s\n", path,
               r.considered, r.imported, r.unchanged, r.secret_imported, r.secret_unchanged,
               r.not_imported ? "; some keys not imported" : "");
    return EX_OK;
}

static int
keys_export(struct mw_ctl *ctl, struct mw_keystore *ks, const char *address, int secret)
{
    struct mw_err err;
    struct mw_buf out;
    int rc = EX_OK;

    mw_buf_init(&out);
    if (mw_keystore_export(ks, address, secret, &out, &err) < 0) {
        fprintf(stderr, "mailwardctl: %s\n", err.text);
        rc = strstr(err.text, "no ") ? EX_NOUSER : EX_SOFTWARE;
    } else if (ctl->json) {
        struct mw_buf j;
        mw_buf_init(&j);
        mw_buf_puts(&j, "{\"address\":");
        mw_ctl_json_string(&j, address);
        mw_buf_printf(&j, ",\"secret\":%s,\"armor\":", secret ? "true" : "false");
        mw_ctl_json_string(&j, out.data);
        mw_buf_puts(&j, "}\n");
        fputs(j.data, stdout);
        mw_buf_release(&j);
    } else {
        fwrite(out.data, 1, out.len, stdout);
    }
    mw_buf_release(&out);
    return rc;
}

/* delete FPR, default ADDRESS [FPR]: the fingerprint must be known. */
static int
keys_by_fpr(struct mw_ctl *ctl, struct mw_keystore *ks, const char *cmd, const char *address,
            const char *fpr)
{
    char def[MW_KEYSTORE_FPR_MAX];
    struct mw_err err;
    int known;

    if (fpr == NULL) {
        if (mw_keystore_default(ks, address, def, &err) < 0) {
            fprintf(stderr, "mailwardctl: %s\n", err.text);
            return EX_NOUSER;
        }
        fpr = def;
    } else if ((known = keys_known(ks, fpr)) <= 0) {
        if (known == 0)
            fprintf(stderr, "mailwardctl: %s: fingerprint not found\n", fpr);
        return known == 0 ? EX_DATAERR : EX_SOFTWARE;
    } else if (strcmp(cmd, "delete") == 0 ? mw_keystore_delete(ks, fpr, &err) < 0
                                          : mw_keystore_set_default(ks, address, fpr, &err) < 0) {
        fprintf(stderr, "mailwardctl: %s\n", err.text);
        return EX_DATAERR;
    }
    if (ctl->json && address == NULL)
        printf("{\"deleted\":\"%s\"}\n", fpr);
    else if (ctl->json)
        printf("{\"address\":\"%s\",\"fingerprint\":\"%s\"}\n", address, fpr);
    else if (address == NULL)
        printf("deleted %s\n", fpr);
    else
        printf("%s %s\n", address, fpr);
    return EX_OK;
}

static int
keys_run(struct mw_ctl *ctl, struct mw_keystore *ks, int argc, char **argv)
{
    const char *c = argv[0];

    if (strcmp(c, "generate") == 0 && argc >= 2)
        return keys_generate(ctl, ks, argc, argv);
    if (strcmp(c, "import") == 0 && argc == 2)
        return keys_import(ctl, ks, argv[1]);
    if (strcmp(c, "export") == 0 && (argc == 2 || (argc == 3 && !strcmp(argv[2], "--secret"))))
        return keys_export(ctl, ks, argv[1], argc == 3);
    if (strcmp(c, "list") == 0 && argc <= 2)
        return keys_list(ctl, ks, argc == 2 ? argv[1] : NULL);
    if (strcmp(c, "delete") == 0 && argc == 2)
        return keys_by_fpr(ctl, ks, c, NULL, argv[1]);
    if (strcmp(c, "default") == 0 && (argc == 2 || argc == 3))
        return keys_by_fpr(ctl, ks, c, argv[1], argc == 3 ? argv[2] : NULL);
    keys_usage();
    return EX_USAGE;
}

int
mw_ctl_cmd_keys(struct mw_ctl *ctl, int argc, char **argv)
{
    struct keys_opts o = {NULL, NULL};
    struct mw_keystore *ks;
    struct mw_err err;
    char *passphrase;
    int i, rc;

    for (i = 1; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (strcmp(argv[i], "--home") == 0)
            o.home = argv[i + 1];
        else if (strcmp(argv[i], "--passphrase-file") == 0)
            o.passphrase_file = argv[i + 1];
        else
            break;
    }
    if (i >= argc || argv[i][0] == '-') {
        keys_usage();
        return EX_USAGE;
    }
    if (o.home == NULL && (o.home = keys_config(ctl, "gnupg_home", KEYS_HOME_DEFAULT)) == NULL)
        return EX_CONFIG;
    if (o.passphrase_file == NULL &&
        (o.passphrase_file = keys_config(ctl, "passphrase_file", "")) == NULL)
        return EX_CONFIG;
    if ((rc = keys_passphrase(o.passphrase_file, &passphrase)) != 0)
        return rc;
    ks = mw_keystore_open(o.home, passphrase, MW_KEYSTORE_CREATE | MW_KEYSTORE_STOP_AGENT, &err);
    if (passphrase != NULL) {
        mw_wipe(passphrase, strlen(passphrase));
        mw_free(&passphrase);
    }
    if (ks == NULL) {
        fprintf(stderr, "mailwardctl: %s\n", err.text);
        return EX_CONFIG;
    }
    rc = keys_run(ctl, ks, argc - i, argv + i);
    mw_keystore_close(&ks);
    return rc;
}
