/*
 * tls-rules.c - the tls-rules plugin: local TLS rules for mailward-policyd.
 *
 * Outbound (socketmap, smtp_tls_policy_maps): the table named by
 * [tls-rules] table maps next-hop domains to a Postfix TLS level, answered
 * as "OK LEVEL [ATTR=VALUE...]" (table.h has the format and precedence).
 * Parent-domain questions (".example.net") are answered from the table only;
 * the plugin never does DNS.
 *
 * Local rules and published policies (dane, mta-sts) cooperate through the
 * chain: a rule marked "override" is answered at once, so it beats the
 * published policies when tls-rules is listed before them in [policyd]
 * plugins; every other rule, and default_level for domains without a rule
 * (exact keys only), is a fallback (mw_tlsq_fallback): it applies only when
 * no later plugin has a policy. So wherever tls-rules stands, a domain with
 * DANE keeps "dane-only" even when a rule or default_level says "encrypt"
 * (which would switch DANE off), and the dane plugin, seeing a
 * mandatory-TLS fallback, never answers the weaker opportunistic "dane".
 * Listed last (the default order), the fallback is simply the answer.
 *
 * Inbound (policy delegation, check_policy_service): when the envelope
 * sender's domain is covered by require_tls_from and the SMTP session is not
 * encrypted (the encryption_protocol attribute is empty or absent), the
 * answer is require_tls_reply followed by a reason naming the rule, e.g.
 * "450 4.7.1 mail from example.org must arrive over TLS (tls-rules
 * require_tls_from .example.org)". Only the MAIL and RCPT protocol states are
 * judged (Postfix sends the sender there; earlier states have none, and at
 * DATA/END-OF-MESSAGE the decision was already taken); everything else, and
 * the null sender, is DUNNO.
 *
 * Settings ([tls-rules], declared below): table (default
 * MW_SYSCONFDIR/tls-rules: when the default file does not exist there are
 * no rules; a file set explicitly must exist), require_tls_from (empty),
 * require_tls_reply ("450 4.7.1"). configure() builds everything new first
 * and swaps only on success, so a broken table on SIGHUP leaves the previous
 * rules in force.
 *
 * Event-loop thread only, as every policy plugin.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "mailward-plugin.h"
#include "mw/alloc.h"
#include "mw/fileperm.h"
#include "mw/log.h"
#include "mw/policy-host.h"
#include "table.h"

#define MW_TLSRULES_DEFAULT_TABLE MW_SYSCONFDIR "/tls-rules"

struct mw_tlsrules_state {
    struct mw_tlsrules *table;           /* NULL: no table */
    struct mw_tlsrules_domains *require; /* NULL: nobody must use TLS */
    char *reply;                         /* "450 4.7.1" */
    char *default_level;                 /* NULL: none */
};

/* "450 4.7.1": a 4xx/5xx code and an enhanced status code of the same class. */
static int
mw_tlsrules_check_reply(const char *v, struct mw_err *err)
{
    if (strlen(v) < 9 || (v[0] != '4' && v[0] != '5') || !isdigit((unsigned char)v[1]) ||
        !isdigit((unsigned char)v[2]) || v[3] != ' ' || v[4] != v[0] || v[5] != '.')
        return mw_err_set(err,
                          "\"%s\" is not an SMTP reply code and enhanced status code, "
                          "e.g. \"450 4.7.1\"",
                          v);
    for (const char *p = v + 6; *p; p++)
        if (!isdigit((unsigned char)*p) && *p != '.')
            return mw_err_set(err, "\"%s\": only the codes, no text (the reason is added)", v);
    return 0;
}

static const struct mw_cfg_key mw_tlsrules_keys[] = {
    {"table", MW_CFG_STRING, MW_TLSRULES_DEFAULT_TABLE, 0, 0, NULL, NULL,
     "Outbound rules, \"DOMAIN LEVEL\" per line; \".example.net\" also covers subdomains. "
     "Empty = no rules; the default file may be absent."},
    {"default_level", MW_CFG_ENUM, "", 0, 0, "|may|encrypt|dane|dane-only|verify|secure", NULL,
     "Outbound: TLS level for every domain without a rule and without a published policy "
     "(DANE keeps dane-only); empty = none."},
    {"require_tls_from", MW_CFG_LIST, "", 0, 0, NULL, NULL,
     "Inbound: sender domains whose mail must arrive over TLS (\".example.org\" = subdomains)."},
    {"require_tls_reply", MW_CFG_STRING, "450 4.7.1", 0, 0, NULL, mw_tlsrules_check_reply,
     "Reply code and enhanced status code for such mail arriving in clear."},
    {NULL, 0, NULL, 0, 0, NULL, NULL, NULL},
};

static const struct mw_cfg_section mw_tlsrules_section = {
    "tls-rules", "Local TLS rules (plugin tls-rules).", mw_tlsrules_keys};

static const struct mw_cfg_section *const mw_tlsrules_sections[] = {&mw_tlsrules_section, NULL};

static int
mw_tlsrules_init(const struct mw_host *host, void **state, struct mw_err *err)
{
    *state = mw_calloc(1, sizeof(struct mw_tlsrules_state));
    return 0;
}

/* The table as configured; *t stays NULL when there are no rules. */
static int
mw_tlsrules_load_table(const struct mw_config *cfg, struct mw_tlsrules **t, struct mw_err *err)
{
    const char *path = mw_config_str(cfg, "tls-rules", "table");
    struct stat st;

    *t = NULL;
    if (*path == '\0')
        return 0;
    if (mw_config_raw(cfg, "tls-rules", "table") == NULL && stat(path, &st) < 0 &&
        errno == ENOENT) {
        mw_log_info("tls-rules: default table %s does not exist: no outbound rules", path);
        return 0;
    }
    if (mw_fileperm_check(cfg, path, MW_FILEPERM_TABLE, err) < 0 ||
        mw_tlsrules_load(path, t, err) < 0)
        return -1;
    mw_log_info("tls-rules: %zu rule%s from %s", mw_tlsrules_count(*t),
                mw_tlsrules_count(*t) == 1 ? "" : "s", path);
    return 0;
}

/*
 * Override rules answer at once, which beats dane and mta-sts only from
 * before them in the chain: say so when the order defeats the admin's intent.
 */
static void
mw_tlsrules_check_order(const struct mw_config *cfg)
{
    char **v = mw_config_list(cfg, "policyd", "plugins", NULL);
    const char *before = NULL;

    for (char **p = v; *p && strcmp(*p, "tls-rules") != 0; p++)
        if (strcmp(*p, "dane") == 0 || strcmp(*p, "mta-sts") == 0)
            before = before ? before : *p;
    if (before != NULL)
        mw_log_warn("tls-rules: the table has rules marked \"override\", but [policyd] plugins "
                    "asks %s first, so published policies still win for those domains: list "
                    "tls-rules first (e.g. \"tls-rules dane mta-sts\")",
                    before);
    mw_strv_free(&v);
}

static int
mw_tlsrules_configure(void *state, const struct mw_config *cfg, struct mw_err *err)
{
    struct mw_tlsrules_state *s = state;
    struct mw_tlsrules *t;
    struct mw_tlsrules_domains *req = NULL;
    char **words;
    struct mw_err why;
    int rc;

    if (mw_tlsrules_load_table(cfg, &t, err) < 0)
        return -1;
    words = mw_config_list(cfg, "tls-rules", "require_tls_from", NULL);
    rc = mw_tlsrules_domains_parse(words, &req, &why);
    mw_strv_free(&words);
    if (rc < 0) {
        mw_tlsrules_free(&t);
        return mw_err_set(err, "%s: require_tls_from: %s",
                          mw_config_where(cfg, "tls-rules", "require_tls_from"), why.text);
    }
    mw_tlsrules_free(&s->table);
    mw_tlsrules_domains_free(&s->require);
    mw_free(&s->reply);
    mw_free(&s->default_level);
    s->table = t;
    s->require = req;
    s->reply = mw_strdup(mw_config_str(cfg, "tls-rules", "require_tls_reply"));
    if (*mw_config_str(cfg, "tls-rules", "default_level") != '\0')
        s->default_level = mw_strdup(mw_config_str(cfg, "tls-rules", "default_level"));
    if (t != NULL && mw_tlsrules_overrides(t) > 0)
        mw_tlsrules_check_order(cfg);
    return 0;
}

static void
mw_tlsrules_fini(void **state)
{
    struct mw_tlsrules_state *s = *state;

    if (s == NULL)
        return;
    mw_tlsrules_free(&s->table);
    mw_tlsrules_domains_free(&s->require);
    mw_free(&s->reply);
    mw_free(&s->default_level);
    mw_free(state);
}

static void
mw_tlsrules_tls_policy(void *state, struct mw_tlsq *q)
{
    struct mw_tlsrules_state *s = state;
    const char *policy = NULL;
    int override = 0;

    if (s->table != NULL)
        policy = mw_tlsrules_find(s->table, mw_tlsq_domain(q), mw_tlsq_is_parent(q), &override);
    if (policy == NULL && !mw_tlsq_is_parent(q))
        policy = s->default_level;
    if (policy == NULL)
        mw_tlsq_reply(q, MW_TLS_NOTFOUND, "%s", "");
    else if (override)
        mw_tlsq_reply(q, MW_TLS_OK, "%s", policy);
    else
        mw_tlsq_fallback(q, "%s", policy);
}

/* The canonical domain of an address "local@domain", or -1 (null sender, no domain, bad). */
static int
mw_tlsrules_sender_domain(const char *sender, char *dom)
{
    const char *at;
    struct mw_err err;

    if (sender == NULL || (at = strrchr(sender, '@')) == NULL)
        return -1;
    return mw_policy_domain_parse(at + 1, strlen(at + 1), dom, &err);
}

static void
mw_tlsrules_access(void *state, struct mw_accessq *q)
{
    struct mw_tlsrules_state *s = state;
    const char *st = mw_accessq_attr(q, "protocol_state");
    const char *tls = mw_accessq_attr(q, "encryption_protocol");
    const char *rule;
    char dom[MW_DOMAIN_MAX + 1];

    if (s->require == NULL || st == NULL ||
        (strcasecmp(st, "RCPT") != 0 && strcasecmp(st, "MAIL") != 0) ||
        (tls != NULL && *tls != '\0') ||
        mw_tlsrules_sender_domain(mw_accessq_attr(q, "sender"), dom) < 0 ||
        (rule = mw_tlsrules_domains_match(s->require, dom)) == NULL) {
        mw_accessq_reply(q, "DUNNO");
        return;
    }
    mw_log_info("tls-rules: client %s sender domain %s without TLS: require_tls_from %s",
                mw_accessq_attr(q, "client_address") ? mw_accessq_attr(q, "client_address")
                                                     : "unknown",
                dom, rule);
    mw_accessq_reply(q, "%s mail from %s must arrive over TLS (tls-rules require_tls_from %s)",
                     s->reply, dom, rule);
}

static const struct mw_policy_hooks mw_tlsrules_hooks = {
    mw_tlsrules_tls_policy,
    mw_tlsrules_access,
};

/* Exported; everything else is static. */
const struct mw_plugin mailward_plugin = {
    MW_PLUGIN_ABI,      "tls-rules",           PACKAGE_VERSION,  mw_tlsrules_sections,
    mw_tlsrules_init,   mw_tlsrules_configure, mw_tlsrules_fini, NULL,
    &mw_tlsrules_hooks,
};
