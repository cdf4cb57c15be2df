/*
 * eom.c - what mailward-milter does at end of message: apply the changes
 * the plugins recorded, write our one Authentication-Results header, log
 * the one line per message (see milter.h).
 *
 * Header text from plugins is checked before it reaches libmilter: a name
 * must be printable without blanks or colon, a value may only contain a
 * line break when it is followed by a blank (folding), so a plugin bug can
 * never inject a header line. A refused change tempfails the message: we
 * never silently accept mail that a plugin wanted changed.
 *
 * Folding: libmilter wants bare "\n" followed by a blank (the MTA adds the
 * CR), so the Authentication-Results header is folded with "\n\t".
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "milter.h"
#include "mw/alloc.h"
#include "mw/buf.h"
#include "mw/config.h"
#include "mw/log.h"
#include "mw/metrics.h"

#define MW_AR_HEADER "Authentication-Results"
#define MW_FOLD_WIDTH 78

struct mw_milter_settings *
mw_milter_settings_new(const struct mw_config *cfg, struct mw_err *err)
{
    struct mw_milter_settings *s = mw_calloc(1, sizeof(*s));
    const char *id = mw_config_str(cfg, "milter", "authserv_id");
    char host[256];
    char **v;
    struct mw_buf list;

    if (*id == '\0') {
        if (gethostname(host, sizeof(host)) < 0 || memchr(host, '\0', sizeof(host)) == NULL) {
            mw_free(&s);
            mw_err_set(err, "[milter] authserv_id is empty and the host name is unusable");
            return NULL;
        }
        id = host;
    }
    s->authserv_id = mw_strdup(id);
    s->max_headers = (size_t)mw_config_int(cfg, "milter", "max_headers");
    s->max_header_size = (size_t)mw_config_int(cfg, "milter", "max_header_size");
    /* The list was validated already; parse the joined words again for the CIDR set. */
    mw_buf_init(&list);
    v = mw_config_list(cfg, "milter", "internal_hosts", NULL);
    for (char **p = v; *p; p++) {
        mw_buf_puts(&list, *p);
        mw_buf_putc(&list, ' ');
    }
    mw_strv_free(&v);
    if (mw_cidr_list_parse(list.data, &s->internal_hosts, err) < 0) {
        mw_buf_release(&list);
        mw_free(&s->authserv_id);
        mw_free(&s);
        return NULL;
    }
    mw_buf_release(&list);
    return s;
}

void
mw_milter_settings_free(struct mw_milter_settings **sp)
{
    struct mw_milter_settings *s = *sp;

    if (s == NULL)
        return;
    mw_cidr_list_release(&s->internal_hosts);
    mw_free(&s->authserv_id);
    mw_free(sp);
}

static int
mw_header_name_ok(const char *name)
{
    if (*name == '\0')
        return 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || *p == ':')
            return 0;
    return 1;
}

/* No bare line breaks: CR/LF only as part of a fold (followed by a blank). */
static int
mw_header_value_ok(const char *value)
{
    for (const char *p = value; *p; p++) {
        if (*p == '\r' && p[1] == '\n')
            p++;
        if ((*p == '\r' || *p == '\n') && p[1] != ' ' && p[1] != '\t')
            return 0;
    }
    return 1;
}

/* An envelope change: the address must be printable ASCII without blanks or <>. */
static int
mw_apply_rcpt(SMFICTX *ctx, const struct mw_msg_change *ch)
{
    char addr[600];
    size_t len = strlen(ch->name);

    if (len == 0 || len > sizeof(addr) - 3) {
        mw_log_error("refusing recipient change of length %zu from a plugin", len);
        return -1;
    }
    for (const unsigned char *p = (const unsigned char *)ch->name; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || *p == '<' || *p == '>') {
            mw_log_error("refusing malformed recipient change from a plugin");
            return -1;
        }
    snprintf(addr, sizeof(addr), "<%s>", ch->name);
    if (ch->kind == MW_MSG_RCPT_ADD)
        return smfi_addrcpt(ctx, addr) == MI_SUCCESS ? 0 : -1;
    return smfi_delrcpt(ctx, addr) == MI_SUCCESS ? 0 : -1;
}

/*
 * The replacement body, read from its spool (memory or temp file) in chunks
 * libmilter accepts (under 64 KiB each); an empty body is one empty chunk.
 */
static int
mw_apply_body(SMFICTX *ctx, const struct mw_msg *m)
{
    const struct mw_spool *body = mw_msg_body_replacement(m);
    size_t len, off = 0;
    unsigned char *chunk;
    int rc = 0;

    if (body == NULL)
        return 0;
    len = mw_spool_len(body);
    chunk = mw_malloc(65535);
    do {
        ssize_t n = mw_spool_read(body, off, chunk, 65535);
        if (n < 0 || (n == 0 && off < len)) {
            mw_log_error("%s: cannot read the new body back: %s", mw_msg_queue_id(m),
                         n < 0 ? strerror(errno) : "short temp file");
            rc = -1;
        } else if (smfi_replacebody(ctx, chunk, (int)n) != MI_SUCCESS) {
            mw_log_error("%s: cannot replace the body", mw_msg_queue_id(m));
            rc = -1;
        }
        off += n > 0 ? (size_t)n : 0;
    } while (rc == 0 && off < len);
    mw_free(&chunk);
    return rc;
}

static int
mw_apply_change(SMFICTX *ctx, const struct mw_msg_change *ch)
{
    char *name = (char *)ch->name;
    char *value = (char *)ch->value;
    int idx = (int)ch->index;

    if (ch->kind == MW_MSG_RCPT_ADD || ch->kind == MW_MSG_RCPT_DELETE)
        return mw_apply_rcpt(ctx, ch);
    if (!mw_header_name_ok(ch->name) || (ch->value != NULL && !mw_header_value_ok(ch->value))) {
        mw_log_error("refusing malformed header change \"%s\" from a plugin", ch->name);
        return -1;
    }
    if (ch->index > 1000000) {
        mw_log_error("refusing header change \"%s\" at index %zu", ch->name, ch->index);
        return -1;
    }
    switch (ch->kind) {
    case MW_MSG_HDR_ADD:
        return smfi_addheader(ctx, name, value) == MI_SUCCESS ? 0 : -1;
    case MW_MSG_HDR_INSERT:
        return smfi_insheader(ctx, idx, name, value) == MI_SUCCESS ? 0 : -1;
    case MW_MSG_HDR_CHANGE:
        return smfi_chgheader(ctx, name, idx, value) == MI_SUCCESS ? 0 : -1;
    case MW_MSG_HDR_DELETE:
        return smfi_chgheader(ctx, name, idx, NULL) == MI_SUCCESS ? 0 : -1;
    case MW_MSG_RCPT_ADD:
    case MW_MSG_RCPT_DELETE:
        break;
    }
    return -1;
}

/* Append text, replacing control characters so an entry can never break the header. */
static void
mw_put_clean(struct mw_buf *b, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        mw_buf_putc(b, *p < 0x20 || *p == 0x7f ? ' ' : *p);
}

char *
mw_milter_ar_value(const char *authserv_id, const struct mw_msg_item *entries)
{
    struct mw_buf b, one;
    size_t col, total = strlen(MW_AR_HEADER ": ") + strlen(authserv_id);

    mw_buf_init(&b);
    mw_buf_init(&one);
    for (const struct mw_msg_item *e = entries; e; e = e->next)
        total += 2 + strlen(e->text);
    mw_put_clean(&b, authserv_id);
    mw_buf_putc(&b, ';');
    if (total + 1 <= MW_FOLD_WIDTH) {
        /* Short enough for one line. */
        for (const struct mw_msg_item *e = entries; e; e = e->next) {
            mw_buf_putc(&b, ' ');
            mw_put_clean(&b, e->text);
            mw_buf_puts(&b, e->next ? ";" : "");
        }
        mw_buf_release(&one);
        return mw_buf_steal(&b);
    }
    /* One entry per line; a long entry is folded again at its blanks. */
    for (const struct mw_msg_item *e = entries; e; e = e->next) {
        mw_buf_reset(&one);
        mw_put_clean(&one, e->text);
        mw_buf_puts(&one, e->next ? ";" : "");
        mw_buf_puts(&b, "\n\t");
        col = 8;
        char *save = NULL;
        for (char *w = strtok_r(one.data, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
            size_t wl = strlen(w);
            if (col > 8 && col + 1 + wl > MW_FOLD_WIDTH) {
                mw_buf_puts(&b, "\n\t");
                col = 8;
            } else if (col > 8) {
                mw_buf_putc(&b, ' ');
                col++;
            }
            mw_buf_puts(&b, w);
            col += wl;
        }
    }
    mw_buf_release(&one);
    return mw_buf_steal(&b);
}

int
mw_milter_apply(SMFICTX *ctx, struct mw_conn *c, const struct mw_milter_settings *set)
{
    const struct mw_msg_item *ar = mw_msg_ar_entries(c->msg);
    char *value;
    int rc;

    for (const struct mw_msg_change *ch = mw_msg_changes(c->msg); ch; ch = ch->next)
        if (mw_apply_change(ctx, ch) < 0) {
            mw_log_error("%s: cannot apply header change \"%s\"", mw_msg_queue_id(c->msg),
                         ch->name);
            return -1;
        }
    if (mw_apply_body(ctx, c->msg) < 0)
        return -1;
    /*
     * Headers that arrive claiming our authserv-id are forgeries (RFC 8601
     * section 5): delete every one, whether or not a plugin adds a verdict.
     * Highest index first: deleting one never moves the ones still to delete.
     */
    for (const struct mw_ar_claim *cl = c->ours; cl; cl = cl->next) {
        if (smfi_chgheader(ctx, MW_AR_HEADER, (int)cl->index, NULL) != MI_SUCCESS) {
            mw_log_error("%s: cannot delete %s header #%zu", mw_msg_queue_id(c->msg), MW_AR_HEADER,
                         cl->index);
            return -1;
        }
        mw_log_info("%s: removed %s header #%zu claiming our authserv-id %s",
                    mw_msg_queue_id(c->msg), MW_AR_HEADER, cl->index, set->authserv_id);
    }
    if (mw_msg_quarantine_reason(c->msg) != NULL) {
        if (smfi_quarantine(ctx, (char *)mw_msg_quarantine_reason(c->msg)) != MI_SUCCESS) {
            mw_log_error("%s: cannot quarantine the message", mw_msg_queue_id(c->msg));
            return -1;
        }
        mw_log_info("%s: held: %s", mw_msg_queue_id(c->msg), mw_msg_quarantine_reason(c->msg));
    }
    if (ar == NULL)
        return 0;
    value = mw_milter_ar_value(set->authserv_id, ar);
    rc = smfi_insheader(ctx, 0, MW_AR_HEADER, value) == MI_SUCCESS ? 0 : -1;
    if (rc < 0)
        mw_log_error("%s: cannot insert the %s header", mw_msg_queue_id(c->msg), MW_AR_HEADER);
    mw_free(&value);
    return rc;
}

/* One count per logged message (or refused recipient), by direction and action. */
static void
mw_milter_count(const char *direction, const char *action)
{
    char labels[96];

    snprintf(labels, sizeof(labels), "direction=\"%s\",action=\"%s\"", direction, action);
    mw_counter_inc(mw_metrics_counter("mailward_milter_messages_total", labels,
                                      "Messages (and refused recipients), per direction and action"));
}

/* A label value from a plugin's word: only [a-z0-9_-], else "other" (never a broken exposition). */
static const char *
mw_milter_label(const char *w)
{
    size_t n = 0;

    if (w == NULL || *w == '\0')
        return "other";
    for (const char *p = w; *p; p++, n++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
            return "other";
    return n <= 32 ? w : "other";
}

/* One count per structured verdict of the message (spf, dkim per signature, dmarc). */
static void
mw_milter_count_verdicts(const struct mw_msg *m)
{
    char labels[112];

    for (size_t i = 0; i < mw_msg_auth_count(m); i++) {
        const struct mw_auth_result *r = mw_msg_auth(m, i);

        snprintf(labels, sizeof(labels), "method=\"%s\",result=\"%s\"",
                 mw_milter_label(r->method), mw_milter_label(r->result));
        mw_counter_inc(mw_metrics_counter("mailward_milter_verdicts_total", labels,
                                          "Verdicts of the checks, per method and result"));
    }
}

void
mw_milter_log(const struct mw_conn *c, const char *rcpt, const char *action)
{
    const struct mw_msg *m = c->msg;
    const char *name = mw_msg_client_name(m);
    struct mw_buf b;

    mw_milter_count(mw_msg_direction(m) == MW_OUTBOUND ? "outbound" : "inbound", action);
    if (rcpt == NULL)
        mw_milter_count_verdicts(m);
    mw_buf_init(&b);
    mw_buf_printf(&b, "%s: %s client=%s[%s]", mw_msg_queue_id(m),
                  mw_msg_direction(m) == MW_OUTBOUND ? "outbound" : "inbound",
                  *name ? name : "unknown", mw_msg_client_addr(m));
    if (mw_msg_in_message(m))
        mw_buf_printf(&b, " from=<%s>", mw_msg_mail_from(m));
    if (rcpt != NULL)
        mw_buf_printf(&b, " to=<%s>", rcpt);
    for (const struct mw_msg_item *it = mw_msg_log_items(m); it; it = it->next) {
        mw_buf_putc(&b, ' ');
        mw_put_clean(&b, it->text);
    }
    if (c->ended_by != NULL)
        mw_buf_printf(&b, " plugin=%s", c->ended_by);
    mw_log_info("%s action=%s", b.data, action);
    mw_buf_release(&b);
}
