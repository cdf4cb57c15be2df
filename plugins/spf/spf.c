/*
 * spf.c - the spf plugin: SPF (RFC 7208) for inbound mail, at MAIL FROM.
 *
 * DESCRIPTION
 *   For every inbound message (mw_msg_direction() == MW_INBOUND; mail from
 *   internal_hosts or with SMTP AUTH is not checked) the mail hook runs
 *   check_host() of the configured engine (spf-engine.h) for
 *     - the HELO identity (RFC 7208 §2.3), when check_helo is set and the
 *       client sent a HELO name;
 *     - the MAIL FROM identity (§2.4); for the null sender that is
 *       postmaster@HELO, so the HELO verdict is reused.
 *   Every DNS lookup goes through the host's resolver (spf-dns.c). A
 *   domain that cannot be checked (an address literal, a single label, no
 *   HELO for a null sender) is "none" without a lookup (§4.3).
 *
 *   It records, all applied by the host at end of message:
 *     - Authentication-Results entries (RFC 8601):
 *         spf=RESULT smtp.mailfrom=ADDRESS   (null sender: postmaster@HELO)
 *         spf=RESULT smtp.helo=HELO          (when the HELO was checked)
 *     - structured results for DMARC (mw_msg_auth_add): method "spf", the
 *       result word, the domain of the checked identity, scope "mailfrom"
 *       (for the null sender its domain is the HELO, RFC 7489 §4.1) or
 *       "helo";
 *     - one Received-SPF header (RFC 7208 §9.1) for the MAIL FROM identity,
 *       inserted at the top;
 *     - log items "spf=RESULT" and "spf_helo=RESULT".
 *   Recorded at MAIL, they live in the message's arena until that message
 *   ends (mw/msg-host.h), so each message of a connection has its own.
 *   Received-SPF headers that arrive are never read.
 *
 *   Actions follow the MAIL FROM verdict only (the HELO verdict is
 *   reported): fail, softfail and permerror can be rejected at MAIL FROM
 *   (550 5.7.23, 550 5.7.23, 550 5.7.24: RFC 7372), temperror can be
 *   tempfailed (451 4.4.3, RFC 7208 §8.6). Every action defaults to "mark":
 *   an SPF failure of forwarded mail is normal, and DMARC (which sees SPF
 *   and DKIM together) is where a domain asks for rejection (RFC 7489 §10.1).
 *
 *   Configuration, section [spf]: engine, check_helo, fail_action,
 *   softfail_action, permerror_action, temperror_action (mw_spf_keys).
 *
 * MEMORY
 *   Verdicts are released before the hook returns; what is recorded is
 *   copied by mw_msg_*. No per-message plugin data.
 *
 * THREADS
 *   The hook runs in many connection threads at once; it reads settings that
 *   change only in configure(), which never overlaps a hook.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mailward-plugin.h"
#include "mw/alloc.h"
#include "mw/buf.h"
#include "mw/log.h"
#include "spf-dns.h"
#include "spf-engine.h"
#include "spf-report.h"

/* The longest explanation shown in a reply (a reply line is 512 bytes at most). */
#define MW_SPF_REPLY_EXP 200

enum mw_spf_action { MW_SPF_MARK, MW_SPF_REJECT, MW_SPF_TEMPFAIL };

struct mw_spf_state {
    const struct mw_host *host; /* host->dns is set only before the first hook */
    const struct mw_spf_engine *engine;
    bool check_helo;
    enum mw_spf_action fail, softfail, permerror, temperror;
    char *receiver; /* %{r} and receiver=: [milter] authserv_id or the host name */
};

/* One identity's check: the inputs shown and the verdict. */
struct mw_spf_check {
    const char *domain; /* checked domain, NULL: nothing checkable */
    char *sender;       /* the identity: MAIL FROM or postmaster@DOMAIN */
    struct mw_spf_verdict v;
};

static const struct mw_cfg_key mw_spf_keys[] = {
    {"engine", MW_CFG_ENUM, "native", 0, 0, "native|libspf2", NULL,
     "SPF evaluator: native (passes the RFC 7208 test suite) or libspf2."},
    {"check_helo", MW_CFG_BOOL, "yes", 0, 0, NULL, NULL,
     "Also check the HELO identity and report it as smtp.helo."},
    {"fail_action", MW_CFG_ENUM, "mark", 0, 0, "mark|reject", NULL,
     "MAIL FROM result fail: mark (report only) or reject with 550 5.7.23."},
    {"softfail_action", MW_CFG_ENUM, "mark", 0, 0, "mark|reject", NULL,
     "MAIL FROM result softfail: mark or reject with 550 5.7.23."},
    {"permerror_action", MW_CFG_ENUM, "mark", 0, 0, "mark|reject", NULL,
     "MAIL FROM result permerror: mark or reject with 550 5.7.24."},
    {"temperror_action", MW_CFG_ENUM, "mark", 0, 0, "mark|tempfail", NULL,
     "MAIL FROM result temperror: mark or tempfail with 451 4.4.3."},
    {NULL, 0, NULL, 0, 0, NULL, NULL, NULL},
};
static const struct mw_cfg_section mw_spf_section = {
    "spf", "SPF (RFC 7208) verification of inbound mail.", mw_spf_keys};
static const struct mw_cfg_section *const mw_spf_sections[] = {&mw_spf_section, NULL};

/* ---- lifecycle ---- */

static int
mw_spf_init(const struct mw_host *host, void **state, struct mw_err *err)
{
    struct mw_spf_state *s = mw_calloc(1, sizeof(*s));

    s->host = host;
    *state = s;
    return 0;
}

static enum mw_spf_action
mw_spf_action(const struct mw_config *cfg, const char *key)
{
    const char *v = mw_config_str(cfg, "spf", key);

    return strcmp(v, "reject") == 0     ? MW_SPF_REJECT
           : strcmp(v, "tempfail") == 0 ? MW_SPF_TEMPFAIL
                                        : MW_SPF_MARK;
}

static int
mw_spf_configure(void *state, const struct mw_config *cfg, struct mw_err *err)
{
    struct mw_spf_state *s = state;
    const char *id = mw_config_str(cfg, "milter", "authserv_id");
    const struct mw_spf_engine *engine = mw_spf_engine_find(mw_config_str(cfg, "spf", "engine"));
    char host[256];

    if (engine == NULL)
        return mw_err_set(err, "spf: engine \"%s\" is not built in",
                          mw_config_str(cfg, "spf", "engine"));
    if (*id == '\0') {
        if (gethostname(host, sizeof(host)) < 0 || memchr(host, '\0', sizeof(host)) == NULL)
            return mw_err_set(err,
                              "spf: [milter] authserv_id is empty and the host name is unusable");
        id = host;
    }
    s->engine = engine;
    s->check_helo = mw_config_bool(cfg, "spf", "check_helo");
    s->fail = mw_spf_action(cfg, "fail_action");
    s->softfail = mw_spf_action(cfg, "softfail_action");
    s->permerror = mw_spf_action(cfg, "permerror_action");
    s->temperror = mw_spf_action(cfg, "temperror_action");
    mw_free(&s->receiver);
    s->receiver = mw_strdup(id);
    return 0;
}

static void
mw_spf_fini(void **state)
{
    struct mw_spf_state *s = *state;

    if (s == NULL)
        return;
    mw_free(&s->receiver);
    mw_free(state);
}

/* ---- checks ---- */

/* The client address; IPv4-mapped IPv6 counts as IPv4 (RFC 7208 §5). */
static int
mw_spf_client_ip(const char *addr, struct mw_spf_ip *ip)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (addr == NULL || *addr == '\0' || mw_spf_ip_parse(addr, ip) < 0)
        return -1;
    if (ip->family == AF_INET6 && memcmp(ip->b, mapped, 12) == 0) {
        memmove(ip->b, ip->b + 12, 4);
        memset(ip->b + 4, 0, 12);
        ip->family = AF_INET;
    }
    return 0;
}

/*
 * check_host() for domain with sender (NULL: postmaster@domain), or "none"
 * with a problem when the domain cannot be checked.
 */
static void
mw_spf_run(const struct mw_spf_state *s, const struct mw_spf_ip *ip, const char *domain,
           const char *sender, const char *helo, struct mw_spf_check *c)
{
    struct mw_spf_dns dns;
    struct mw_buf b;

    memset(c, 0, sizeof(*c));
    c->domain = domain;
    mw_buf_init(&b);
    if (sender != NULL)
        mw_buf_puts(&b, sender);
    else if (domain != NULL)
        mw_buf_printf(&b, "postmaster@%s", domain);
    else
        mw_buf_puts(&b, "<>"); /* the null sender without a HELO name: nothing to check */
    c->sender = mw_buf_steal(&b);
    c->v.result = MW_SPF_NONE;
    if (domain == NULL || !mw_spf_domain_ok(domain)) {
        c->v.problem = mw_strdup(domain == NULL ? "no HELO name for the null sender"
                                                : "not a domain name that SPF can check");
        return;
    }
    mw_spf_dns_init(&dns, s->host->dns);
    s->engine->check_host(&dns, ip, domain, c->sender, helo != NULL ? helo : "unknown", s->receiver,
                          &c->v);
}

static char *
mw_spf_strdup_null(const char *p)
{
    return p != NULL ? mw_strdup(p) : NULL;
}

/* dst = a deep copy of src. */
static void
mw_spf_check_copy(struct mw_spf_check *dst, const struct mw_spf_check *src)
{
    dst->domain = src->domain;
    dst->sender = mw_strdup(src->sender);
    dst->v.result = src->v.result;
    dst->v.explanation = mw_spf_strdup_null(src->v.explanation);
    dst->v.mechanism = mw_spf_strdup_null(src->v.mechanism);
    dst->v.problem = mw_spf_strdup_null(src->v.problem);
}

static void
mw_spf_check_release(struct mw_spf_check *c)
{
    mw_free(&c->sender);
    mw_spf_verdict_release(&c->v);
}

/* ---- what is recorded ---- */

static void
mw_spf_record_ar(struct mw_msg *m, const char *result, const char *prop, const char *value)
{
    struct mw_buf b;

    mw_buf_init(&b);
    mw_spf_pvalue(&b, value);
    mw_msg_ar_add(m, "spf=%s %s=%s", result, prop, b.data);
    mw_buf_release(&b);
}

static void
mw_spf_record_helo(struct mw_msg *m, const struct mw_spf_check *h)
{
    const char *res = mw_spf_result_name(h->v.result);
    struct mw_auth_result r = {
        .method = "spf", .result = res, .domain = h->domain, .scope = "helo"};

    mw_spf_record_ar(m, res, "smtp.helo", h->domain);
    mw_msg_auth_add(m, &r);
    mw_msg_log_add(m, "spf_helo=%s", res);
}

static void
mw_spf_record_mailfrom(const struct mw_spf_state *s, struct mw_msg *m, const char *client,
                       const struct mw_spf_check *c)
{
    const char *res = mw_spf_result_name(c->v.result);
    struct mw_auth_result r = {
        .method = "spf", .result = res, .domain = c->domain, .scope = "mailfrom"};
    struct mw_spf_report rep = {
        .result = c->v.result,
        .identity = "mailfrom",
        .client_ip = client,
        .envelope_from = mw_msg_mail_from(m),
        .sender = c->sender,
        .helo = mw_msg_helo(m),
        .receiver = s->receiver,
        .mechanism = c->v.mechanism,
        .problem = c->v.problem,
    };
    char *received;

    if (c->domain != NULL) {
        mw_spf_record_ar(m, res, "smtp.mailfrom", c->sender);
        mw_msg_auth_add(m, &r);
    } else {
        mw_msg_ar_add(m, "spf=%s", res); /* null sender without HELO: no identity at all */
    }
    received = mw_spf_received(&rep);
    mw_msg_header_insert(m, 0, "Received-SPF", received);
    mw_free(&received);
    mw_msg_log_add(m, "spf=%s", res);
}

/* ---- actions ---- */

static enum mw_verdict
mw_spf_reject(struct mw_msg *m, const char *xcode, const char *client, const struct mw_spf_check *c)
{
    struct mw_buf b;

    mw_buf_init(&b);
    mw_buf_puts(&b, "SPF: ");
    mw_spf_text(&b, c->domain, MW_SPF_SHOW_MAX);
    if (c->v.result == MW_SPF_PERMERROR) {
        mw_buf_puts(&b, " has an SPF record in error");
        if (c->v.problem != NULL) {
            mw_buf_puts(&b, ": ");
            mw_spf_text(&b, c->v.problem, MW_SPF_REPLY_EXP);
        }
    } else {
        mw_buf_printf(&b, " does not designate %s as permitted sender", client);
        if (c->v.explanation != NULL) {
            mw_buf_puts(&b, ": ");
            mw_spf_text(&b, c->v.explanation, MW_SPF_REPLY_EXP);
        }
    }
    mw_msg_set_reply(m, "550", xcode, "%s", b.data);
    mw_buf_release(&b);
    return MW_REJECT;
}

static enum mw_verdict
mw_spf_act(const struct mw_spf_state *s, struct mw_msg *m, const char *client,
           const struct mw_spf_check *c)
{
    switch (c->v.result) {
    case MW_SPF_FAIL:
        return s->fail == MW_SPF_REJECT ? mw_spf_reject(m, "5.7.23", client, c) : MW_CONTINUE;
    case MW_SPF_SOFTFAIL:
        return s->softfail == MW_SPF_REJECT ? mw_spf_reject(m, "5.7.23", client, c) : MW_CONTINUE;
    case MW_SPF_PERMERROR:
        return s->permerror == MW_SPF_REJECT ? mw_spf_reject(m, "5.7.24", client, c) : MW_CONTINUE;
    case MW_SPF_TEMPERROR:
        if (s->temperror != MW_SPF_TEMPFAIL)
            return MW_CONTINUE;
        mw_msg_set_reply(m, "451", "4.4.3",
                         "SPF: temporary DNS failure checking %s, try again later", c->domain);
        return MW_TEMPFAIL;
    default:
        return MW_CONTINUE;
    }
}

/* ---- the hook ---- */

/* Split the MAIL FROM identity: domain after the last '@' (none: the whole). */
static const char *
mw_spf_sender_domain(const char *from)
{
    const char *at = strrchr(from, '@');

    return at != NULL ? at + 1 : from;
}

static enum mw_verdict
mw_spf_mail(void *state, struct mw_msg *m)
{
    const struct mw_spf_state *s = state;
    const char *from = mw_msg_mail_from(m), *helo = mw_msg_helo(m), *addr = mw_msg_client_addr(m);
    struct mw_spf_check h, c;
    struct mw_spf_ip ip;
    char client[INET6_ADDRSTRLEN];
    enum mw_verdict v;
    bool helo_checked = false;

    if (mw_msg_direction(m) != MW_INBOUND)
        return MW_CONTINUE;
    if (mw_spf_client_ip(addr, &ip) < 0) {
        mw_log_info("%s: spf: no usable client address \"%s\": not checked", mw_msg_queue_id(m),
                    addr);
        mw_msg_log_add(m, "spf=skipped");
        return MW_CONTINUE;
    }
    inet_ntop(ip.family, ip.b, client, sizeof(client));
    if (helo != NULL && *helo == '\0')
        helo = NULL;
    if (s->check_helo && helo != NULL) {
        mw_spf_run(s, &ip, helo, NULL, helo, &h);
        helo_checked = true;
    }
    if (*from == '\0' && helo_checked) {
        mw_spf_check_copy(&c, &h); /* §2.4: the null sender is postmaster@HELO */
    } else if (*from == '\0') {
        mw_spf_run(s, &ip, helo, NULL, helo, &c);
    } else {
        const char *domain = mw_spf_sender_domain(from);
        /* No local part (§4.3): the engine is given postmaster@DOMAIN. */
        bool bare = domain == from || domain == from + 1;

        mw_spf_run(s, &ip, domain, bare ? NULL : from, helo, &c);
    }
    mw_spf_record_mailfrom(s, m, client, &c);
    if (helo_checked) {
        mw_spf_record_helo(m, &h);
        mw_spf_check_release(&h);
    }
    v = mw_spf_act(s, m, client, &c);
    mw_spf_check_release(&c);
    return v;
}

static const struct mw_milter_hooks mw_spf_hooks = {
    .mail = mw_spf_mail,
};

const struct mw_plugin mailward_plugin = {
    .abi = MW_PLUGIN_ABI,
    .name = "spf",
    .version = PACKAGE_VERSION,
    .sections = mw_spf_sections,
    .init = mw_spf_init,
    .configure = mw_spf_configure,
    .fini = mw_spf_fini,
    .milter = &mw_spf_hooks,
};
