/*
 * callbacks.c - libmilter callbacks: one struct mw_conn per SMTP
 * connection, plugin hooks run in the order of [milter] plugins (see
 * milter.h).
 *
 * The first verdict that is not MW_CONTINUE ends the message: the
 * remaining plugins are not asked, every plugin's done hook runs, the
 * message's syslog line is written and the per-message arena is released,
 * all before libmilter gets the answer. A REJECT or TEMPFAIL at RCPT
 * refuses that recipient only, as SMTP does.
 *
 * Body chunks go to the plugins as they come; the host never holds a
 * whole message. Any failure of the host itself (libmilter refusing a
 * change) is a TEMPFAIL: the MTA keeps the mail and retries.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "ar.h"
#include "milter.h"
#include "mw/alloc.h"
#include "mw/log.h"

/* Macros we ask the MTA for (smfi_setsymlist) and remember, per stage. */
static const char *const mw_macros_connect[] = {"j",
                                                "{daemon_name}",
                                                "{daemon_addr}",
                                                "{client_addr}",
                                                "{client_name}",
                                                "{client_port}",
                                                "{if_addr}",
                                                NULL};
static const char *const mw_macros_helo[] = {
    "{tls_version}", "{cipher}", "{cipher_bits}", "{cert_subject}", "{cert_issuer}",
    "{verify}",      NULL};
static const char *const mw_macros_mail[] = {
    "i",           "{auth_type}", "{auth_authen}", "{auth_author}",
    "{mail_addr}", "{mail_host}", "{mail_mailer}", NULL};
static const char *const mw_macros_rcpt[] = {"i", "{rcpt_addr}", "{rcpt_host}", "{rcpt_mailer}",
                                             NULL};
static const char *const mw_macros_i[] = {"i", NULL};

static void
mw_macros_take(SMFICTX *ctx, struct mw_msg *m, const char *const *names, int message_scope)
{
    for (; *names; names++) {
        const char *v = smfi_getsymval(ctx, (char *)*names);
        if (v != NULL)
            mw_msg_set_macro(m, *names, v, message_scope);
    }
}

static void
mw_conn_count(int delta)
{
    pthread_mutex_lock(&mw_milter.conn_lock);
    if (delta > 0)
        mw_milter.conns++;
    else if (--mw_milter.conns == 0)
        pthread_cond_broadcast(&mw_milter.conn_idle);
    pthread_mutex_unlock(&mw_milter.conn_lock);
}

/* The connection's state, created on first use (the MTA may skip CONNECT). */
static struct mw_conn *
mw_conn_get(SMFICTX *ctx)
{
    struct mw_conn *c = smfi_getpriv(ctx);

    if (c != NULL)
        return c;
    c = mw_calloc(1, sizeof(*c));
    c->msg = mw_msg_create(mw_milter.plugins.n);
    if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
        mw_msg_free(&c->msg);
        mw_free(&c);
        return NULL;
    }
    mw_conn_count(1);
    return c;
}

/* Every plugin's done hook, then forget the message. */
static void
mw_conn_end_message(struct mw_conn *c)
{
    for (size_t i = 0; i < mw_milter.plugins.n; i++) {
        const struct mw_plugin_handle *h = &mw_milter.plugins.v[i];
        if (h->plugin->milter != NULL && h->plugin->milter->done != NULL) {
            mw_msg_set_plugin(c->msg, i);
            h->plugin->milter->done(h->state, c->msg);
        }
    }
    mw_msg_reset(c->msg);
    c->ar_seen = 0;
    c->ours = NULL;
    c->ended_by = NULL;
    c->held = MW_CONTINUE;
    c->nheaders = 0;
}

struct mw_hook_args {
    const char *a, *b;
    const unsigned char *data;
    size_t len;
};

static enum mw_verdict
mw_hook_call(const struct mw_plugin_handle *h, struct mw_msg *m, enum mw_stage st,
             const struct mw_hook_args *x)
{
    const struct mw_milter_hooks *k = h->plugin->milter;

    switch (st) {
    case MW_ST_CONNECT:
        return k->connect ? k->connect(h->state, m) : MW_CONTINUE;
    case MW_ST_HELO:
        return k->helo ? k->helo(h->state, m) : MW_CONTINUE;
    case MW_ST_MAIL:
        return k->mail ? k->mail(h->state, m) : MW_CONTINUE;
    case MW_ST_RCPT:
        return k->rcpt ? k->rcpt(h->state, m, x->a) : MW_CONTINUE;
    case MW_ST_HEADER:
        return k->header ? k->header(h->state, m, x->a, x->b) : MW_CONTINUE;
    case MW_ST_EOH:
        return k->eoh ? k->eoh(h->state, m) : MW_CONTINUE;
    case MW_ST_BODY:
        return k->body ? k->body(h->state, m, x->data, x->len) : MW_CONTINUE;
    case MW_ST_EOM:
        return k->eom ? k->eom(h->state, m) : MW_CONTINUE;
    }
    return MW_CONTINUE;
}

/* Run one stage's hooks in order; the caller holds mw_milter.lock for reading. */
static enum mw_verdict
mw_hooks_run(struct mw_conn *c, enum mw_stage st, const struct mw_hook_args *x)
{
    for (size_t i = 0; i < mw_milter.plugins.n; i++) {
        const struct mw_plugin_handle *h = &mw_milter.plugins.v[i];
        enum mw_verdict v;

        if (h->plugin->milter == NULL)
            continue;
        double t0 = mw_milter_stats_start(i, st);

        mw_msg_set_plugin(c->msg, i);
        v = mw_hook_call(h, c->msg, st, x);
        mw_milter_stats_end(i, st, t0, v);
        if (v != MW_CONTINUE) {
            c->ended_by = h->plugin->name;
            return v;
        }
    }
    return MW_CONTINUE;
}

static const char *
mw_verdict_action(enum mw_verdict v)
{
    switch (v) {
    case MW_CONTINUE:
    case MW_ACCEPT:
        return "accept";
    case MW_REJECT:
        return "reject";
    case MW_TEMPFAIL:
        return "tempfail";
    case MW_DISCARD:
        return "discard";
    }
    return "tempfail";
}

/* Pass the recorded reply (if any) to the MTA and map the verdict. */
static sfsistat
mw_verdict_status(SMFICTX *ctx, struct mw_conn *c, enum mw_verdict v)
{
    const char *rcode, *xcode, *text;

    if ((v == MW_REJECT || v == MW_TEMPFAIL) && mw_msg_reply(c->msg, &rcode, &xcode, &text) == 0) {
        char *clean = mw_strdup(text);
        for (char *p = clean; *p; p++)
            if (*p == '\r' || *p == '\n' || *p == '%')
                *p = ' ';
        if (smfi_setreply(ctx, (char *)rcode, (char *)xcode, clean) != MI_SUCCESS)
            mw_log_warn("%s: plugin reply \"%s %s %s\" refused by libmilter; using the default",
                        mw_msg_queue_id(c->msg), rcode, xcode, clean);
        mw_free(&clean);
    }
    switch (v) {
    case MW_CONTINUE:
        return SMFIS_CONTINUE;
    case MW_ACCEPT:
        return SMFIS_ACCEPT;
    case MW_REJECT:
        return SMFIS_REJECT;
    case MW_DISCARD:
        return SMFIS_DISCARD;
    case MW_TEMPFAIL:
        break;
    }
    return SMFIS_TEMPFAIL;
}

/* A verdict ended the message (or connection): log, clean up, answer. */
static sfsistat
mw_conn_finish(SMFICTX *ctx, struct mw_conn *c, enum mw_verdict v)
{
    sfsistat st = mw_verdict_status(ctx, c, v);

    mw_milter_log(c, NULL, mw_verdict_action(v));
    mw_conn_end_message(c);
    return st;
}

/* Run a stage under the read lock; a non-CONTINUE verdict ends the message. */
static sfsistat
mw_stage(SMFICTX *ctx, struct mw_conn *c, enum mw_stage st, const struct mw_hook_args *x)
{
    enum mw_verdict v;
    sfsistat rc = SMFIS_CONTINUE;

    pthread_rwlock_rdlock(&mw_milter.lock);
    v = mw_hooks_run(c, st, x);
    if (v != MW_CONTINUE)
        rc = mw_conn_finish(ctx, c, v);
    pthread_rwlock_unlock(&mw_milter.lock);
    return rc;
}

/*
 * A stage the MTA expects no reply to (SMFIP_NR_HDR, NR_EOH, NR_BODY; libmilter answers
 * for us when the MTA lacks them): the first verdict other than CONTINUE is held and
 * answered at EOM, and the hooks see nothing more of the message until then. The SMTP
 * client hears the same either way: a milter's answer to the header or body stages
 * reaches it only after the final dot. Per message this saves the round trips of EOH
 * and every body chunk.
 */
static void
mw_stage_held(struct mw_conn *c, enum mw_stage st, const struct mw_hook_args *x)
{
    if (c->held != MW_CONTINUE)
        return;
    pthread_rwlock_rdlock(&mw_milter.lock);
    c->held = mw_hooks_run(c, st, x);
    pthread_rwlock_unlock(&mw_milter.lock);
}

static void
mw_direction_update(struct mw_conn *c)
{
    int out;

    pthread_rwlock_rdlock(&mw_milter.lock);
    out = mw_msg_auth_user(c->msg) != NULL ||
          mw_cidr_list_match(&mw_milter.set->internal_hosts, mw_msg_client_addr(c->msg));
    pthread_rwlock_unlock(&mw_milter.lock);
    mw_msg_set_direction(c->msg, out ? MW_OUTBOUND : MW_INBOUND);
}

static sfsistat
mw_cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *sa)
{
    struct mw_conn *c = mw_conn_get(ctx);
    char addr[INET6_ADDRSTRLEN] = "";
    const char *macro;

    if (c == NULL)
        return SMFIS_TEMPFAIL;
    mw_macros_take(ctx, c->msg, mw_macros_connect, 0);
    if (sa != NULL && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)sa)->sin_addr, addr, sizeof(addr));
    else if (sa != NULL && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)sa)->sin6_addr, addr, sizeof(addr));
    else if ((macro = mw_msg_macro(c->msg, "{client_addr}")) != NULL)
        snprintf(addr, sizeof(addr), "%s", macro);
    mw_msg_set_client(c->msg, hostname, addr);
    mw_direction_update(c);
    return mw_stage(ctx, c, MW_ST_CONNECT, &(struct mw_hook_args){0});
}

static sfsistat
mw_cb_helo(SMFICTX *ctx, char *helo)
{
    struct mw_conn *c = mw_conn_get(ctx);

    if (c == NULL)
        return SMFIS_TEMPFAIL;
    mw_macros_take(ctx, c->msg, mw_macros_helo, 0);
    mw_msg_set_helo(c->msg, helo);
    return mw_stage(ctx, c, MW_ST_HELO, &(struct mw_hook_args){0});
}

static sfsistat
mw_cb_envfrom(SMFICTX *ctx, char **argv)
{
    struct mw_conn *c = mw_conn_get(ctx);

    if (c == NULL)
        return SMFIS_TEMPFAIL;
    if (mw_msg_in_message(c->msg)) {
        pthread_rwlock_rdlock(&mw_milter.lock);
        mw_conn_end_message(c);
        pthread_rwlock_unlock(&mw_milter.lock);
    }
    mw_macros_take(ctx, c->msg, mw_macros_mail, 1);
    mw_msg_set_auth(c->msg, mw_msg_macro(c->msg, "{auth_authen}"));
    mw_msg_set_mail_from(c->msg, argv[0]);
    mw_direction_update(c);
    return mw_stage(ctx, c, MW_ST_MAIL, &(struct mw_hook_args){0});
}

static sfsistat
mw_cb_envrcpt(SMFICTX *ctx, char **argv)
{
    struct mw_conn *c = mw_conn_get(ctx);
    struct mw_hook_args x = {0};
    enum mw_verdict v;
    sfsistat rc;

    if (c == NULL)
        return SMFIS_TEMPFAIL;
    mw_macros_take(ctx, c->msg, mw_macros_rcpt, 1);
    x.a = argv[0];
    pthread_rwlock_rdlock(&mw_milter.lock);
    v = mw_hooks_run(c, MW_ST_RCPT, &x);
    if (v == MW_REJECT || v == MW_TEMPFAIL) {
        /* This recipient only; the message goes on for the others. */
        rc = mw_verdict_status(ctx, c, v);
        mw_milter_log(c, argv[0], mw_verdict_action(v));
        c->ended_by = NULL;
    } else if (v != MW_CONTINUE) {
        rc = mw_conn_finish(ctx, c, v);
    } else {
        mw_msg_add_rcpt(c->msg, argv[0]);
        rc = SMFIS_CONTINUE;
    }
    pthread_rwlock_unlock(&mw_milter.lock);
    return rc;
}

/*
 * [milter] max_headers and max_header_size: the first field over a limit
 * ends the message with 552 5.3.4 (RFC 5321 4.5.3.1.10: a size limit is a
 * permanent refusal; RFC 3463: message too big for system), answered at
 * EOM like a held verdict; later fields are neither kept nor shown to the
 * plugins. Returns 1 when this field is dropped.
 */
static int
mw_header_limit(struct mw_conn *c, const char *name, const char *value)
{
    size_t size = strlen(name) + strlen(value), max_n, max_size;

    if (c->nheaders == MW_OVER_LIMIT)
        return 1;
    pthread_rwlock_rdlock(&mw_milter.lock);
    max_n = mw_milter.set->max_headers;
    max_size = mw_milter.set->max_header_size;
    pthread_rwlock_unlock(&mw_milter.lock);
    if (++c->nheaders <= max_n && size <= max_size)
        return 0;
    if (c->nheaders > max_n)
        mw_msg_log_add(c->msg, "reason=\"more than %zu header fields\"", max_n);
    else
        mw_msg_log_add(c->msg, "reason=\"header field %.40s of %zu bytes, limit %zu\"", name,
                       size, max_size);
    if (c->held == MW_CONTINUE || c->held == MW_ACCEPT) {
        mw_msg_set_reply(c->msg, "552", "5.3.4", "message header too large");
        c->held = MW_REJECT;
        c->ended_by = NULL;
    }
    c->nheaders = MW_OVER_LIMIT;
    return 1;
}

static sfsistat
mw_cb_header(SMFICTX *ctx, char *name, char *value)
{
    struct mw_conn *c = mw_conn_get(ctx);
    struct mw_hook_args x = {.a = name, .b = value};

    if (c == NULL)
        return SMFIS_TEMPFAIL;
    if (mw_header_limit(c, name, value))
        return SMFIS_NOREPLY;
    if (strcasecmp(name, "Authentication-Results") == 0) {
        struct mw_buf id;
        struct mw_err err;

        c->ar_seen++;
        mw_buf_init(&id);
        if (mw_ar_authserv_id(value, strlen(value), &id, &err) < 0) {
            mw_log_debug("%s: Authentication-Results #%zu: %s", mw_msg_queue_id(c->msg), c->ar_seen,
                         err.text);
        } else {
            pthread_rwlock_rdlock(&mw_milter.lock);
            if (strcasecmp(id.data, mw_milter.set->authserv_id) == 0) {
                struct mw_ar_claim *cl = mw_msg_alloc(c->msg, sizeof(*cl));
                cl->index = c->ar_seen;
                cl->next = c->ours;
                c->ours = cl;
            }
            pthread_rwlock_unlock(&mw_milter.lock);
        }
        mw_buf_release(&id);
    }
    mw_msg_add_header(c->msg, name, value);
    mw_stage_held(c, MW_ST_HEADER, &x);
    return SMFIS_NOREPLY;
}

static sfsistat
mw_cb_eoh(SMFICTX *ctx)
{
    struct mw_conn *c = mw_conn_get(ctx);

    if (c == NULL)
        return SMFIS_TEMPFAIL;
    mw_macros_take(ctx, c->msg, mw_macros_i, 1);
    mw_stage_held(c, MW_ST_EOH, &(struct mw_hook_args){0});
    return SMFIS_NOREPLY;
}

static sfsistat
mw_cb_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
    struct mw_conn *c = mw_conn_get(ctx);

    if (c == NULL)
        return SMFIS_TEMPFAIL;
    mw_stage_held(c, MW_ST_BODY, &(struct mw_hook_args){.data = data, .len = len});
    return SMFIS_NOREPLY;
}

static sfsistat
mw_cb_eom(SMFICTX *ctx)
{
    struct mw_conn *c = mw_conn_get(ctx);
    enum mw_verdict v;
    sfsistat rc;

    if (c == NULL)
        return SMFIS_TEMPFAIL;
    mw_macros_take(ctx, c->msg, mw_macros_i, 1);
    pthread_rwlock_rdlock(&mw_milter.lock);
    if (c->held != MW_CONTINUE) {
        rc = mw_conn_finish(ctx, c, (enum mw_verdict)c->held);
        pthread_rwlock_unlock(&mw_milter.lock);
        return rc == SMFIS_ACCEPT ? SMFIS_CONTINUE : rc;
    }
    v = mw_hooks_run(c, MW_ST_EOM, &(struct mw_hook_args){0});
    if ((v == MW_CONTINUE || v == MW_ACCEPT) && mw_milter_apply(ctx, c, mw_milter.set) < 0) {
        /* Never deliver unchanged what a plugin wanted changed. */
        mw_msg_set_reply(c->msg, "451", "4.3.0", "temporary failure in the mail filter");
        v = MW_TEMPFAIL;
    }
    rc = mw_conn_finish(ctx, c, v);
    pthread_rwlock_unlock(&mw_milter.lock);
    return rc == SMFIS_ACCEPT ? SMFIS_CONTINUE : rc;
}

static sfsistat
mw_cb_abort(SMFICTX *ctx)
{
    struct mw_conn *c = smfi_getpriv(ctx);

    if (c != NULL && mw_msg_in_message(c->msg)) {
        mw_log_debug("%s: message aborted", mw_msg_queue_id(c->msg));
        pthread_rwlock_rdlock(&mw_milter.lock);
        mw_conn_end_message(c);
        pthread_rwlock_unlock(&mw_milter.lock);
    }
    return SMFIS_CONTINUE;
}

static sfsistat
mw_cb_close(SMFICTX *ctx)
{
    struct mw_conn *c = smfi_getpriv(ctx);

    if (c == NULL)
        return SMFIS_CONTINUE;
    pthread_rwlock_rdlock(&mw_milter.lock);
    mw_conn_end_message(c);
    pthread_rwlock_unlock(&mw_milter.lock);
    smfi_setpriv(ctx, NULL);
    mw_msg_free(&c->msg);
    mw_free(&c);
    mw_conn_count(-1);
    return SMFIS_CONTINUE;
}

static int
mw_any_body_hook(void)
{
    for (size_t i = 0; i < mw_milter.plugins.n; i++) {
        const struct mw_milter_hooks *k = mw_milter.plugins.v[i].plugin->milter;
        if (k != NULL && k->body != NULL)
            return 1;
    }
    return 0;
}

static void
mw_symlist(SMFICTX *ctx, int stage, const char *const *names)
{
    char list[512] = "";

    for (; *names; names++) {
        if (*list)
            strcat(list, " ");
        strcat(list, *names); /* the lists above are far shorter than 512 */
    }
    if (smfi_setsymlist(ctx, stage, list) != MI_SUCCESS)
        mw_log_warn("cannot ask the MTA for macros %s", list);
}

#define MW_ACTIONS                                                                                 \
    (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_ADDRCPT | SMFIF_DELRCPT |               \
     SMFIF_QUARANTINE)

static sfsistat
mw_cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
                unsigned long *pf3)
{
    if ((f0 & MW_ACTIONS) != MW_ACTIONS)
        mw_log_warn("the MTA offers milter actions 0x%lx, we want 0x%lx: some changes will fail",
                    f0, (unsigned long)MW_ACTIONS);
    *pf0 = f0 & (MW_ACTIONS | SMFIF_SETSYMLIST);
    /* No reply to each header, to EOH or to each body chunk (mw_stage_held); libmilter
     * answers for us when the MTA does not offer these. */
    *pf1 = (f1 & (SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_SKIP)) | SMFIP_NR_HDR | SMFIP_NR_EOH |
           SMFIP_NR_BODY;
    if (!mw_any_body_hook())
        *pf1 |= f1 & SMFIP_NOBODY;
    *pf2 = 0;
    *pf3 = 0;
    if (f0 & SMFIF_SETSYMLIST) {
        mw_symlist(ctx, SMFIM_CONNECT, mw_macros_connect);
        mw_symlist(ctx, SMFIM_HELO, mw_macros_helo);
        mw_symlist(ctx, SMFIM_ENVFROM, mw_macros_mail);
        mw_symlist(ctx, SMFIM_ENVRCPT, mw_macros_rcpt);
        mw_symlist(ctx, SMFIM_EOH, mw_macros_i);
        mw_symlist(ctx, SMFIM_EOM, mw_macros_i);
    }
    return SMFIS_CONTINUE;
}

struct smfiDesc mw_milter_desc = {
    .xxfi_name = "mailward-milter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = MW_ACTIONS | SMFIF_SETSYMLIST,
    .xxfi_connect = mw_cb_connect,
    .xxfi_helo = mw_cb_helo,
    .xxfi_envfrom = mw_cb_envfrom,
    .xxfi_envrcpt = mw_cb_envrcpt,
    .xxfi_header = mw_cb_header,
    .xxfi_eoh = mw_cb_eoh,
    .xxfi_body = mw_cb_body,
    .xxfi_eom = mw_cb_eom,
    .xxfi_abort = mw_cb_abort,
    .xxfi_close = mw_cb_close,
    .xxfi_negotiate = mw_cb_negotiate,
};
