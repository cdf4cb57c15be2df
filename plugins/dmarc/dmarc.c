/*
 * dmarc.c - the dmarc plugin: DMARC (RFC 7489) for inbound mail.
 *
 * DESCRIPTION
 *   For every inbound message (mw_msg_direction() == MW_INBOUND) the plugin
 *   reads each From header as it passes (from.c) and, at end of message,
 *   after the spf and dkim plugins ("plugins = spf dkim dmarc"), judges:
 *
 *     1. the author domain: exactly one From header with mailboxes of one
 *        domain. Several From headers, or addresses in several domains,
 *        are never judged by one of them: multiple_from rejects or marks
 *        (dmarc=permerror). No From, or one that does not parse, is a
 *        permerror too (the reason in the comment), and nothing is done;
 *     2. policy discovery (discover.c): _dmarc.FROM, else _dmarc.ORG with
 *        ORG the organizational domain (psl.c); none: dmarc=none;
 *     3. the record (policy.c, parsed by libopendmarc) and the SPF and DKIM
 *        results earlier plugins recorded with mw_msg_auth_add(): never
 *        Authentication-Results or Received-SPF headers of the message;
 *     4. the disposition: p (or sp for a subdomain), sampled by pct, turned
 *        into an action by reject_action and quarantine_action; a temporary
 *        DNS failure by temperror_action.
 *
 *   It records one Authentication-Results entry (RFC 8601, RFC 7489 §11.2)
 *     dmarc=RESULT (p=POLICY[ sp=SP][ dis=DISPOSITION]) header.from=DOMAIN
 *   (sp when it was the applicable policy, dis when pct sampling weakened
 *   it; the comment gives the reason for none, temperror and permerror),
 *   one structured result (method "dmarc") and one log item
 *   "dmarc=RESULT:DOMAIN:ACTION", ACTION being none, mark (a policy or rule
 *   asked for more; the configuration says only mark), quarantine (the MTA
 *   holds the message: Postfix's hold queue), reject (550 5.7.1 naming the
 *   domain or the reason) or tempfail (451 4.4.3).
 *
 *   Configuration, section [dmarc]: verify, reject_action,
 *   quarantine_action, temperror_action, multiple_from, public_suffix_list
 *   (see mw_dmarc_keys below and mailward.conf(5)).
 *
 * MEMORY
 *   Per message: struct mw_dmarc_msg in the message's plugin slot, freed by
 *   the done hook. The public suffix list belongs to the state and is
 *   replaced whole by configure().
 *
 * THREADS
 *   Settings and the list change only in configure(), which the host never
 *   runs while a hook runs. libopendmarc is initialised once, in init().
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <opendmarc/dmarc.h>

#include "dmarc/discover.h"
#include "dmarc/from.h"
#include "dmarc/policy.h"
#include "dmarc/psl.h"
#include "mailward-plugin.h"
#include "mw/alloc.h"
#include "mw/buf.h"
#include "mw/log.h"

enum mw_dmarc_act {
    MW_DMARC_ACT_NONE,
    MW_DMARC_ACT_MARK,
    MW_DMARC_ACT_QUARANTINE,
    MW_DMARC_ACT_REJECT,
    MW_DMARC_ACT_TEMPFAIL,
};

struct mw_dmarc_state {
    const struct mw_host *host;
    OPENDMARC_LIB_T lib;
    struct mw_psl *psl;
    bool verify;
    enum mw_dmarc_act on_reject, on_quarantine, on_temperror, on_multiple_from;
};

struct mw_dmarc_msg {
    size_t from_headers;
    bool from_ok; /* the first From header parsed */
    struct mw_dmarc_from from;
    struct mw_err from_err;
};

/* What the plugin concluded about one message. */
struct mw_dmarc_outcome {
    const char *result;
    const char *domain;    /* the From domain, NULL if there is none to name */
    struct mw_buf comment; /* "" or the AR comment */
    struct mw_buf reply;   /* REJECT / TEMPFAIL: the SMTP text */
    enum mw_dmarc_act act;
};

#define MW_DMARC_PSL_DEFAULT "/usr/share/publicsuffix/public_suffix_list.dat"

static const struct mw_cfg_key mw_dmarc_keys[] = {
    {"verify", MW_CFG_BOOL, "yes", 0, 0, NULL, NULL,
     "Apply the DMARC policy of the From domain to inbound mail and report it in "
     "Authentication-Results."},
    {"reject_action", MW_CFG_ENUM, "reject", 0, 0, "reject|mark", NULL,
     "A failure under p=reject: reject (550 5.7.1) or only mark it in Authentication-Results."},
    {"quarantine_action", MW_CFG_ENUM, "quarantine", 0, 0, "quarantine|mark", NULL,
     "A failure under p=quarantine: quarantine (the MTA holds the message) or only mark it."},
    {"temperror_action", MW_CFG_ENUM, "mark", 0, 0, "mark|tempfail", NULL,
     "The policy or an aligned identity could not be checked for now: mark (dmarc=temperror) "
     "or tempfail (451 4.4.3)."},
    {"multiple_from", MW_CFG_ENUM, "reject", 0, 0, "reject|mark", NULL,
     "Several From headers, or From addresses in several domains: reject (550 5.7.1) or mark "
     "dmarc=permerror."},
    {"public_suffix_list", MW_CFG_STRING, MW_DMARC_PSL_DEFAULT, 0, 0, NULL, NULL,
     "The Public Suffix List file that gives organizational domains (Debian: publicsuffix)."},
    {NULL, 0, NULL, 0, 0, NULL, NULL, NULL},
};
static const struct mw_cfg_section mw_dmarc_section = {"dmarc", "DMARC policy for inbound mail.",
                                                       mw_dmarc_keys};
static const struct mw_cfg_section *const mw_dmarc_sections[] = {&mw_dmarc_section, NULL};

/* ---- lifecycle ---- */

static int
mw_dmarc_init(const struct mw_host *host, void **state, struct mw_err *err)
{
    /*
     * No TLD file for libopendmarc: it only parses records here; the
     * organizational domains come from psl.c and the lookups from lib/dns.
     */
    struct mw_dmarc_state *s = mw_calloc(1, sizeof(*s));

    s->lib.tld_type = OPENDMARC_TLD_TYPE_NONE;
    if (opendmarc_policy_library_init(&s->lib) != DMARC_PARSE_OKAY) {
        mw_free(&s);
        return mw_err_set(err, "dmarc: libopendmarc initialisation failed");
    }
    s->host = host;
    *state = s;
    return 0;
}

static enum mw_dmarc_act
mw_dmarc_act_of(const struct mw_config *cfg, const char *key)
{
    const char *v = mw_config_str(cfg, "dmarc", key);

    if (strcmp(v, "reject") == 0)
        return MW_DMARC_ACT_REJECT;
    if (strcmp(v, "quarantine") == 0)
        return MW_DMARC_ACT_QUARANTINE;
    if (strcmp(v, "tempfail") == 0)
        return MW_DMARC_ACT_TEMPFAIL;
    return MW_DMARC_ACT_MARK;
}

/*
 * DMARC judges what spf and dkim recorded before it: listed after dmarc,
 * their verdicts would come too late and every message would fail.
 */
static int
mw_dmarc_check_order(const struct mw_config *cfg, struct mw_err *err)
{
    char **v = mw_config_list(cfg, "milter", "plugins", NULL);
    bool seen_dmarc = false, spf = false, dkim = false;
    const char *late = NULL;

    for (char **p = v; *p != NULL; p++) {
        if (strcmp(*p, "dmarc") == 0)
            seen_dmarc = true;
        else if (strcmp(*p, "spf") == 0 || strcmp(*p, "dkim") == 0) {
            spf = spf || strcmp(*p, "spf") == 0;
            dkim = dkim || strcmp(*p, "dkim") == 0;
            if (seen_dmarc && late == NULL)
                late = strcmp(*p, "spf") == 0 ? "spf" : "dkim";
        }
    }
    mw_strv_free(&v);
    if (late != NULL)
        return mw_err_set(err, "[milter] plugins (%s): list %s before dmarc, whose verdict uses it",
                          mw_config_where(cfg, "milter", "plugins"), late);
    if (seen_dmarc && !spf && !dkim)
        return mw_err_set(err, "[milter] plugins (%s): dmarc needs spf or dkim before it",
                          mw_config_where(cfg, "milter", "plugins"));
    if (seen_dmarc && (!spf || !dkim))
        mw_log_warn("dmarc: [milter] plugins has no %s: DMARC sees only %s results",
                    spf ? "dkim" : "spf", spf ? "SPF" : "DKIM");
    return 0;
}

static int
mw_dmarc_configure(void *state, const struct mw_config *cfg, struct mw_err *err)
{
    struct mw_dmarc_state *s = state;
    bool verify = mw_config_bool(cfg, "dmarc", "verify");
    struct mw_psl *psl = NULL;
    struct mw_err e;

    if (verify && mw_dmarc_check_order(cfg, err) < 0)
        return -1;
    if (verify) {
        psl = mw_psl_load(mw_config_str(cfg, "dmarc", "public_suffix_list"), &e);
        if (psl == NULL)
            return mw_err_set(err, "[dmarc] public_suffix_list (%s): %s",
                              mw_config_where(cfg, "dmarc", "public_suffix_list"), e.text);
        mw_psl_free(&s->psl);
        s->psl = psl;
    }
    s->verify = verify;
    s->on_reject = mw_dmarc_act_of(cfg, "reject_action");
    s->on_quarantine = mw_dmarc_act_of(cfg, "quarantine_action");
    s->on_temperror = mw_dmarc_act_of(cfg, "temperror_action");
    s->on_multiple_from = mw_dmarc_act_of(cfg, "multiple_from");
    return 0;
}

static void
mw_dmarc_fini(void **state)
{
    struct mw_dmarc_state *s = *state;

    if (s == NULL)
        return;
    mw_psl_free(&s->psl);
    opendmarc_policy_library_shutdown(&s->lib);
    mw_free(state);
}

/* ---- per message ---- */

static bool
mw_dmarc_applies(const struct mw_dmarc_state *s, const struct mw_msg *m)
{
    return s->verify && s->psl != NULL && mw_msg_direction(m) == MW_INBOUND;
}

static enum mw_verdict
mw_dmarc_header_hook(void *state, struct mw_msg *m, const char *name, const char *value)
{
    void **slot = mw_msg_data(m);
    struct mw_dmarc_msg *dm = *slot;

    if (strcasecmp(name, "From") != 0 || !mw_dmarc_applies(state, m))
        return MW_CONTINUE;
    if (dm == NULL)
        *slot = dm = mw_calloc(1, sizeof(*dm));
    /* Only the first is parsed: a second one is refused whatever it says. */
    if (dm->from_headers++ == 0)
        dm->from_ok = mw_dmarc_from_parse(value, strlen(value), &dm->from, &dm->from_err) == 0;
    return MW_CONTINUE;
}

/* Step 1: the one author domain, or a permerror outcome (returns NULL). */
static const char *
mw_dmarc_author(const struct mw_dmarc_state *s, const struct mw_dmarc_msg *dm,
                struct mw_dmarc_outcome *o)
{
    size_t n = dm != NULL ? dm->from_headers : 0;

    o->result = "permerror";
    if (n == 0) {
        mw_buf_printf(&o->comment, "no From header");
        return NULL;
    }
    if (n > 1) {
        mw_buf_printf(&o->comment, "%zu From headers", n);
    } else if (!dm->from_ok) {
        mw_buf_printf(&o->comment, "%s", dm->from_err.text);
        return NULL;
    } else if (dm->from.mailboxes == 0) {
        mw_buf_printf(&o->comment, "no address in the From header");
        return NULL;
    } else if (dm->from.other[0] != '\0') {
        mw_buf_printf(&o->comment, "From addresses in several domains: %s, %s", dm->from.domain,
                      dm->from.other);
    } else {
        return dm->from.domain;
    }
    /* Several authors: judging only one of them would let the other pass. */
    o->act = s->on_multiple_from;
    mw_buf_printf(&o->reply, "%s: DMARC cannot judge this message", o->comment.data);
    return NULL;
}

/* The SPF and DKIM verdicts recorded before us, as pointers (valid until the message ends). */
static const struct mw_auth_result **
mw_dmarc_results(const struct mw_msg *m, size_t *n)
{
    const struct mw_auth_result **v;

    *n = mw_msg_auth_count(m);
    v = mw_calloc(*n + 1, sizeof(*v));
    for (size_t i = 0; i < *n; i++)
        v[i] = mw_msg_auth(m, i);
    return v;
}

/* Steps 3 and 4 for a discovered record. */
static void
mw_dmarc_apply(const struct mw_dmarc_state *s, const struct mw_msg *m,
               const struct mw_dmarc_lookup *l, const char *from, const char *org,
               struct mw_dmarc_outcome *o)
{
    struct mw_dmarc_record rec;
    struct mw_dmarc_verdict v;
    struct mw_dmarc_input in = {.from = from, .fallback = l->fallback, .rec = &rec};
    struct mw_err err;

    if (mw_dmarc_record_parse(l->record, from, l->fallback ? org : NULL, &rec, &err) < 0) {
        o->result = "permerror";
        mw_buf_printf(&o->comment, "%s", err.text);
        return;
    }
    in.results = mw_dmarc_results(m, &in.nresults);
    in.bounce = *mw_msg_mail_from(m) == '\0';
    in.roll = arc4random_uniform(100);
    mw_dmarc_evaluate(s->psl, &in, &v);
    free((void *)in.results);
    o->result = v.result;
    mw_buf_printf(&o->comment, "p=%s", mw_dmarc_p_name(rec.p));
    if (v.used_sp)
        mw_buf_printf(&o->comment, " sp=%s", mw_dmarc_p_name(rec.sp));
    if (strcmp(v.result, "temperror") == 0) {
        o->act = s->on_temperror;
        mw_buf_printf(
            &o->reply,
            "the SPF or DKIM result for the DMARC policy of %s is not available, try again "
            "later",
            from);
        return;
    }
    if (strcmp(v.result, "fail") != 0)
        return;
    if (v.disposition != v.policy)
        mw_buf_printf(&o->comment, " dis=%s", mw_dmarc_p_name(v.disposition));
    if (v.disposition == MW_DMARC_P_REJECT)
        o->act = s->on_reject;
    else if (v.disposition == MW_DMARC_P_QUARANTINE)
        o->act = s->on_quarantine;
    mw_buf_printf(&o->reply,
                  "rejected by the DMARC policy of %s: no SPF or DKIM pass aligned with the From "
                  "domain",
                  from);
}

static void
mw_dmarc_judge(const struct mw_dmarc_state *s, const struct mw_msg *m,
               const struct mw_dmarc_msg *dm, struct mw_dmarc_outcome *o)
{
    char org[MW_DNS_NAME_MAX + 1];
    struct mw_dmarc_lookup l;
    const char *from = mw_dmarc_author(s, dm, o);

    if (from == NULL)
        return;
    o->domain = from;
    if (mw_psl_org_domain(s->psl, from, org) < 0) {
        mw_buf_printf(&o->comment, "unusable From domain");
        return;
    }
    mw_dmarc_discover(s->host->dns, from, org, &l);
    switch (l.status) {
    case MW_DMARC_FOUND:
        mw_dmarc_apply(s, m, &l, from, org, o);
        break;
    case MW_DMARC_NORECORD:
        o->result = "none";
        mw_buf_printf(&o->comment, "no DMARC record");
        break;
    case MW_DMARC_INVALID:
        mw_buf_puts(&o->comment, l.why.text);
        break;
    case MW_DMARC_TEMPFAIL:
        o->result = "temperror";
        o->act = s->on_temperror;
        mw_buf_puts(&o->comment, l.why.text);
        mw_buf_printf(&o->reply, "the DMARC policy of %s could not be looked up, try again later",
                      from);
        break;
    }
    mw_dmarc_lookup_release(&l);
}

static const char *
mw_dmarc_act_name(enum mw_dmarc_act a)
{
    static const char *const names[] = {"none", "mark", "quarantine", "reject", "tempfail"};

    return names[a];
}

/* Record the outcome; returns the verdict for the host. */
static enum mw_verdict
mw_dmarc_report(struct mw_msg *m, const struct mw_dmarc_outcome *o)
{
    struct mw_auth_result r = {.method = "dmarc", .result = o->result, .domain = o->domain};
    const char *c = o->comment.data;

    mw_msg_ar_add(m, "dmarc=%s%s%s%s%s%s", o->result, *c ? " (" : "", c, *c ? ")" : "",
                  o->domain ? " header.from=" : "", o->domain ? o->domain : "");
    mw_msg_auth_add(m, &r);
    mw_msg_log_add(m, "dmarc=%s:%s:%s", o->result, o->domain ? o->domain : "-",
                   mw_dmarc_act_name(o->act));
    switch (o->act) {
    case MW_DMARC_ACT_REJECT:
        mw_msg_set_reply(m, "550", "5.7.1", "%s", o->reply.data);
        return MW_REJECT;
    case MW_DMARC_ACT_TEMPFAIL:
        mw_msg_set_reply(m, "451", "4.4.3", "%s", o->reply.data);
        return MW_TEMPFAIL;
    case MW_DMARC_ACT_QUARANTINE:
        mw_msg_quarantine(m, "DMARC policy of %s: quarantine", o->domain);
        return MW_CONTINUE;
    default:
        return MW_CONTINUE;
    }
}

static enum mw_verdict
mw_dmarc_eom_hook(void *state, struct mw_msg *m)
{
    struct mw_dmarc_state *s = state;
    struct mw_dmarc_outcome o = {0};
    enum mw_verdict v;

    if (!mw_dmarc_applies(s, m))
        return MW_CONTINUE;
    mw_buf_init(&o.comment);
    mw_buf_init(&o.reply);
    mw_dmarc_judge(s, m, *mw_msg_data(m), &o);
    v = mw_dmarc_report(m, &o);
    mw_buf_release(&o.comment);
    mw_buf_release(&o.reply);
    return v;
}

static void
mw_dmarc_done(void *state, struct mw_msg *m)
{
    void **slot = mw_msg_data(m);

    mw_free(slot);
}

static const struct mw_milter_hooks mw_dmarc_hooks = {
    .header = mw_dmarc_header_hook,
    .eom = mw_dmarc_eom_hook,
    .done = mw_dmarc_done,
};

const struct mw_plugin mailward_plugin = {
    .abi = MW_PLUGIN_ABI,
    .name = "dmarc",
    .version = PACKAGE_VERSION,
    .sections = mw_dmarc_sections,
    .init = mw_dmarc_init,
    .configure = mw_dmarc_configure,
    .fini = mw_dmarc_fini,
    .milter = &mw_dmarc_hooks,
};
