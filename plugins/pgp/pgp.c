/*
 * pgp.c - the pgp plugin: OpenPGP encryption and signing of outbound mail.
 *
 * DESCRIPTION
 *   For outbound mail (mw_msg_direction() == MW_OUTBOUND) the plugin keeps
 *   the header fields and the body (up to [pgp] max_size; past
 *   memory_limit in a nameless temp file in spool_dir, mw/spool.h), and at end of
 *   message decides per recipient, from [pgp] encrypt and the policy_table:
 *     never   the recipient gets the message in clear;
 *     if-key  encrypted when gnupg_home holds a usable key for the address;
 *     always  encrypted, or the message is refused (missing_key_action).
 *   Key holders get an RFC 3156 multipart/encrypted message in this
 *   transaction (the body is replaced, the Content-* header fields are
 *   replaced, the Subject is replaced by outer_subject; the real header
 *   fields travel inside, RFC 9788). When some recipients get clear text
 *   and others ciphertext, the clear ones are removed from the transaction
 *   and a clear copy goes to them through [pgp] reinject (reinject.h);
 *   without reinject such a message is refused. Several key holders
 *   ([pgp] bcc_privacy): per-recipient keeps the first in the transaction
 *   and re-injects a ciphertext for each other one, encrypted to their key
 *   alone; hidden-keyids encrypts one copy with wildcard key ids; off one
 *   copy with visible key ids. The sender's key (From:
 *   address, else MAIL FROM) signs when [pgp] sign allows: inside the
 *   encryption (RFC 3156 §6.2, combined), or as multipart/signed.
 *   Mail that is already encrypted (PGP/MIME, inline PGP, S/MIME) passes.
 *   Log item: pgp=encrypted:N[,signed][,per-recipient|,hidden-keyids|
 *   ,keyids-visible][,reinjected:M] | signed |
 *   skipped:REASON | tempfail:REASON | reject:REASON.
 *
 *   Password mode (pwflow.c): an authenticated sender's outbound message
 *   with an Encrypt-Password field is encrypted with that password instead
 *   (no keys, no signature); the field is removed from every message.
 *   Log items pgp=password-encrypted, pgp=reject:password-fields|
 *   password-value, pgp=tempfail:password; pgp-password=ignored when the
 *   field came from an inbound or unauthenticated client.
 *
 *   List the plugin before dkim ("pgp dkim"): a DKIM signer must sign the
 *   final body, which it reads with mw_msg_body_replacement().
 *
 * MEMORY
 *   Per message: struct mw_pgp_msg in the plugin slot, freed by done.
 *
 * THREADS
 *   GPGME: one context per worker thread (gpg.c). Settings change only in
 *   configure(), never under a running hook.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "flow.h"
#include "gpg.h"
#include "mailward-plugin.h"
#include "mime.h"
#include "mw/alloc.h"
#include "mw/fileperm.h"
#include "mw/keystore.h"
#include "mw/log.h"
#include "reinject.h"

static const struct mw_cfg_key mw_pgp_keys[] = {
    {"gnupg_home", MW_CFG_STRING, "/var/lib/mailward/gnupg", 0, 0, NULL, NULL,
     "GnuPG home with the recipients' public keys and the senders' key pairs (the keystore)."},
    {"encrypt", MW_CFG_ENUM, "if-key", 0, 0, "never|if-key|always", NULL,
     "Encrypt outbound mail: never, if-key (recipients with a key), always (refuse without)."},
    {"sign", MW_CFG_ENUM, "if-key", 0, 0, "never|if-key|always", NULL,
     "Sign outbound mail with the sender's key: never, if-key, always (refuse without)."},
    {"policy_table", MW_CFG_STRING, "", 0, 0, NULL, NULL,
     "File of \"ADDRESS|DOMAIN|.DOMAIN never|if-key|always\" lines overriding encrypt."},
    {"bcc_privacy", MW_CFG_ENUM, "per-recipient", 0, 0, "per-recipient|hidden-keyids|off", NULL,
     "How no key id in the ciphertext reveals one recipient to another: per-recipient (one copy "
     "per key holder, the others re-injected), hidden-keyids (one copy, wildcard key ids; rnp "
     "0.16 cannot decrypt those), off (one copy, key ids visible)."},
    {"missing_key_action", MW_CFG_ENUM, "tempfail", 0, 0, "tempfail|reject", NULL,
     "When policy demands a key that is missing: tempfail (451 4.7.1) or reject (550 5.7.1)."},
    {"max_size", MW_CFG_INT, "26214400", 1024, 1073741824, NULL, NULL,
     "Largest message (bytes) the plugin collects to encrypt or sign."},
    {"too_big_action", MW_CFG_ENUM, "tempfail", 0, 0, "tempfail|reject|pass", NULL,
     "A message over max_size: tempfail, reject, or pass in clear (unless a recipient is always)."},
    {"reinject", MW_CFG_STRING, "smtp://127.0.0.1:10026", 0, 0, NULL, NULL,
     "SMTP URL of a milter-free Postfix port for the clear copy of mixed-recipient mail; "
     "empty: refuse mixed messages."},
    {"outer_subject", MW_CFG_STRING, "[...]", 0, 0, NULL, NULL,
     "Subject of the outer (unprotected) header of an encrypted message."},
    {"passphrase_file", MW_CFG_STRING, "", 0, 0, NULL, NULL,
     "File holding the passphrase of the secret (signing) keys; empty: keys without one."},
    {"password_explanation", MW_CFG_STRING, "", 0, 0, NULL, NULL,
     "Text part of a password-encrypted message (\\n: line break); empty: the built-in text."},
    {"spool_dir", MW_CFG_STRING, "", 0, 0, NULL, NULL,
     "Private directory (mode 0700, owned by the run user) where a message over memory_limit "
     "is collected in a nameless temp file; empty: in memory only (up to max_size)."},
    {"memory_limit", MW_CFG_INT, "1048576", 4096, 1073741824, NULL, NULL,
     "Bytes of a message body kept in memory before it moves to spool_dir."},
    {NULL, 0, NULL, 0, 0, NULL, NULL, NULL},
};

static const struct mw_cfg_section mw_pgp_section = {
    "pgp", "OpenPGP encryption and signing of outbound mail (mailward-milter).", mw_pgp_keys};
static const struct mw_cfg_section *const mw_pgp_sections[] = {&mw_pgp_section, NULL};

struct mw_pgp_state {
    struct mw_pgp_settings *set;
};

static void
mw_pgp_settings_free(struct mw_pgp_settings **sp)
{
    struct mw_pgp_settings *s = *sp;

    if (s == NULL)
        return;
    mw_pgp_table_free(&s->table);
    if (s->passphrase != NULL)
        mw_wipe(s->passphrase, strlen(s->passphrase));
    mw_free(&s->passphrase);
    mw_free(&s->home);
    mw_free(&s->reinject);
    mw_free(&s->outer_subject);
    mw_free(&s->explanation);
    mw_free(&s->spool_dir);
    mw_free(sp);
}

/* The passphrase file's first line (at most 1023 bytes). */
static int
mw_pgp_read_passphrase(const char *path, char **out, struct mw_err *err)
{
    char buf[1025];
    size_t n;
    FILE *f = fopen(path, "r");

    if (f == NULL)
        return mw_err_set(err, "[pgp] passphrase_file %s: %s", path, strerror(errno));
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (n == sizeof(buf) - 1 && strlen(buf) == n) {
        mw_wipe(buf, sizeof(buf));
        return mw_err_set(err, "[pgp] passphrase_file %s: longer than 1023 bytes", path);
    }
    *out = mw_strdup(buf);
    mw_wipe(buf, sizeof(buf));
    return 0;
}

/* password_explanation with "\\n" made a line break; NULL when empty. */
static char *
mw_pgp_explanation(const char *text)
{
    char *out, *o;

    if (*text == '\0')
        return NULL;
    out = o = mw_malloc(strlen(text) + 2);
    for (const char *p = text; *p; p++) {
        if (p[0] == '\\' && p[1] == 'n') {
            *o++ = '\n';
            p++;
        } else {
            *o++ = *p;
        }
    }
    if (o[-1] != '\n')
        *o++ = '\n';
    *o = '\0';
    return out;
}

static int
mw_pgp_configure(void *state, const struct mw_config *cfg, struct mw_err *err)
{
    struct mw_pgp_state *st = state;
    struct mw_pgp_settings *s = mw_calloc(1, sizeof(*s));
    const char *table = mw_config_str(cfg, "pgp", "policy_table");
    const char *pwfile = mw_config_str(cfg, "pgp", "passphrase_file");
    struct mw_err gerr = {{0}};

    s->home = mw_strdup(mw_config_str(cfg, "pgp", "gnupg_home"));
    s->reinject = mw_strdup(mw_config_str(cfg, "pgp", "reinject"));
    s->outer_subject = mw_strdup(mw_config_str(cfg, "pgp", "outer_subject"));
    s->explanation = mw_pgp_explanation(mw_config_str(cfg, "pgp", "password_explanation"));
    mw_pgp_mode_parse(mw_config_str(cfg, "pgp", "encrypt"), &s->encrypt);
    mw_pgp_mode_parse(mw_config_str(cfg, "pgp", "sign"), &s->sign);
    s->reject_missing = strcmp(mw_config_str(cfg, "pgp", "missing_key_action"), "reject") == 0;
    s->bcc = mw_config_str(cfg, "pgp", "bcc_privacy")[0];
    s->max_size = (size_t)mw_config_int(cfg, "pgp", "max_size");
    s->too_big = mw_config_str(cfg, "pgp", "too_big_action")[0];
    s->spool_dir = mw_strdup(mw_config_str(cfg, "pgp", "spool_dir"));
    s->memory_limit = (size_t)mw_config_int(cfg, "pgp", "memory_limit");
    if (*s->spool_dir != '\0' && *s->spool_dir != '/') {
        mw_pgp_settings_free(&s);
        return mw_err_set(err, "[pgp] spool_dir must be an absolute path");
    }
    if (*s->home == '\0' || strchr(s->outer_subject, '\n') != NULL) {
        mw_pgp_settings_free(&s);
        return mw_err_set(err, "[pgp] gnupg_home must be set and outer_subject one line");
    }
    /* spool_dir: private like a GnuPG home (the run user's, no group or other access). */
    if (mw_fileperm_check(cfg, s->home, MW_FILEPERM_HOMEDIR, err) < 0 ||
        (*s->spool_dir && mw_fileperm_check(cfg, s->spool_dir, MW_FILEPERM_HOMEDIR, err) < 0) ||
        (*table && (mw_fileperm_check(cfg, table, MW_FILEPERM_TABLE, err) < 0 ||
                    mw_pgp_table_load(table, &s->table, err) < 0)) ||
        (*pwfile && (mw_fileperm_check(cfg, pwfile, MW_FILEPERM_SECRET, err) < 0 ||
                     mw_pgp_read_passphrase(pwfile, &s->passphrase, err) < 0))) {
        mw_pgp_settings_free(&s);
        return -1;
    }
    if (s->passphrase == NULL)
        s->passphrase = mw_strdup("");
    /* Password mode needs AES-256 and S2K 3 from gpg.conf; without them it tempfails. */
    if (mw_keystore_gpgconf(s->home, &gerr) < 0)
        mw_log_warn("pgp: %s: password-encrypted messages will be refused", gerr.text);
    mw_pgp_settings_free(&st->set);
    st->set = s;
    mw_log_info("pgp: gnupg_home %s, encrypt %s, sign %s, %zu policy rules", s->home,
                mw_pgp_mode_name(s->encrypt), mw_pgp_mode_name(s->sign),
                mw_pgp_table_size(s->table));
    return 0;
}

static int
mw_pgp_init(const struct mw_host *host, void **state, struct mw_err *err)
{
    (void)host;
    if (mw_pgp_gpg_init(err) < 0 || mw_pgp_reinject_init(err) < 0)
        return -1;
    mw_pgp_mime_init();
    mw_pgp_guard_init();
    *state = mw_calloc(1, sizeof(struct mw_pgp_state));
    return 0;
}

static void
mw_pgp_fini(void **state)
{
    struct mw_pgp_state *st = *state;

    if (st == NULL)
        return;
    mw_pgp_settings_free(&st->set);
    mw_free(state);
    mw_pgp_gpg_fini();
    mw_pgp_mime_fini();
    mw_pgp_reinject_fini();
}

static struct mw_pgp_msg *
mw_pgp_msg_get(const struct mw_pgp_state *st, struct mw_msg *m)
{
    void **slot = mw_msg_data(m);

    if (*slot == NULL) {
        struct mw_pgp_msg *pm = mw_calloc(1, sizeof(*pm));
        mw_spool_init(&pm->body, st->set->spool_dir, st->set->memory_limit);
        pm->outbound = mw_msg_direction(m) == MW_OUTBOUND;
        *slot = pm;
    }
    return *slot;
}

static enum mw_verdict
mw_pgp_header(void *state, struct mw_msg *m, const char *name, const char *value)
{
    struct mw_pgp_state *st = state;
    struct mw_pgp_msg *pm = mw_pgp_msg_get(st, m);

    if (strcasecmp(name, MW_PGP_PASSWORD_HEADER) == 0)
        mw_pgp_pw_header(pm, m, value);
    else if (pm->outbound)
        mw_pgp_msg_header(pm, st->set, name, value);
    return MW_CONTINUE;
}

static enum mw_verdict
mw_pgp_body(void *state, struct mw_msg *m, const unsigned char *data, size_t len)
{
    struct mw_pgp_state *st = state;
    struct mw_pgp_msg *pm = mw_pgp_msg_get(st, m);

    if (!pm->outbound || pm->too_big)
        return MW_CONTINUE;
    if (pm->size + len > st->set->max_size) {
        pm->too_big = 1;
        mw_spool_release(&pm->body);
        mw_spool_init(&pm->body, NULL, 0);
        return MW_CONTINUE;
    }
    pm->size += len;
    /* A failure is sticky in the spool: mw_pgp_msg_raw() reports it at end of message. */
    (void)mw_spool_append(&pm->body, data, len);
    return MW_CONTINUE;
}

static enum mw_verdict
mw_pgp_eom(void *state, struct mw_msg *m)
{
    struct mw_pgp_state *st = state;
    struct mw_pgp_msg *pm = mw_pgp_msg_get(st, m);
    enum mw_verdict v;
    int done = 0;

    if (pm->npw > 0 && (v = mw_pgp_pw_eom(st->set, pm, m, &done), done))
        return v;
    if (!pm->outbound)
        return MW_CONTINUE;
    return mw_pgp_flow(st->set, pm, m);
}

static void
mw_pgp_done(void *state, struct mw_msg *m)
{
    void **slot = mw_msg_data(m);

    (void)state;
    mw_pgp_msg_free((struct mw_pgp_msg **)slot);
}

static const struct mw_milter_hooks mw_pgp_hooks = {
    .header = mw_pgp_header,
    .body = mw_pgp_body,
    .eom = mw_pgp_eom,
    .done = mw_pgp_done,
};

const struct mw_plugin mailward_plugin = {
    .abi = MW_PLUGIN_ABI,
    .name = "pgp",
    .version = PACKAGE_VERSION,
    .sections = mw_pgp_sections,
    .init = mw_pgp_init,
    .configure = mw_pgp_configure,
    .fini = mw_pgp_fini,
    .milter = &mw_pgp_hooks,
};
