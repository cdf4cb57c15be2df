/*
 * delegation.c - the Postfix policy delegation protocol (see delegation.h).
 *
 * Request: "name=value" lines, the last an empty line; Postfix sends
 * request=smtpd_access_policy first and keeps the connection for more
 * requests. Reply: "action=ACTION" and an empty line. Plugins' access hooks
 * are chained; DUNNO passes on, and when every plugin passed the answer is
 * action=DUNNO.
 *
 * A malformed request (a line that is not name=value, longer than
 * MW_DELEGATION_LINE_MAX, with control characters, more than
 * MW_DELEGATION_ATTRS_MAX attributes, a repeated attribute, or no
 * request=smtpd_access_policy) is read to its empty line and answered
 * "action=451 4.3.0 malformed policy request": answering DUNNO would let
 * whoever can garble a request skip every check. The connection stays
 * usable. The same tempfail answers a request no plugin answered within
 * request_timeout.
 */
#include "config.h"

#include <event2/buffer.h>
#include <string.h>

#include "mw/alloc.h"
#include "mw/log.h"
#include "delegation.h"

#define MW_DELEGATION_TEMPFAIL "451 4.3.0"

struct mw_delegation {
    struct mw_policy_attr *attrs; /* of the request being read */
    size_t n;
    const char *broken; /* why that request is malformed, NULL if it is not */
    int skipping;       /* inside an overlong line: discard up to its newline */
};

static void
mw_delegation_reset(struct mw_delegation *d)
{
    for (size_t i = 0; i < d->n; i++) {
        mw_free(&d->attrs[i].name);
        mw_free(&d->attrs[i].value);
    }
    mw_free(&d->attrs);
    d->n = 0;
    d->broken = NULL;
}

static void
mw_delegation_done(void *arg, const char *action, const char *plugin)
{
    struct mw_req *r = arg;

    mw_log_debug("policy: sender <%s> from %s: %s%s%s%s", r->what ? r->what : "",
                 mw_conn_peer(r->conn), action, plugin ? " (" : "", plugin ? plugin : "",
                 plugin ? ")" : "");
    mw_buf_printf(&r->reply, "action=%s\n\n", action);
    mw_req_finish(r);
}

static const char *
mw_delegation_find(const struct mw_delegation *d, const char *name)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->attrs[i].name, name) == 0)
            return d->attrs[i].value;
    return NULL;
}

/* One "name=value" line (len bytes, no newline); problems mark the request broken. */
static void
mw_delegation_attr(struct mw_delegation *d, const char *line, size_t len)
{
    const char *eq = memchr(line, '=', len);
    char *name;

    if (d->broken != NULL)
        return;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f) {
            d->broken = "control character in a line";
            return;
        }
    if (eq == NULL || eq == line ||
        strspn(line, "abcdefghijklmnopqrstuvwxyz0123456789_") != (size_t)(eq - line)) {
        d->broken = "a line is not name=value";
        return;
    }
    if (d->n == MW_DELEGATION_ATTRS_MAX) {
        d->broken = "too many attributes";
        return;
    }
    name = mw_strndup(line, (size_t)(eq - line));
    if (mw_delegation_find(d, name) != NULL) {
        mw_free(&name);
        d->broken = "an attribute is repeated";
        return;
    }
    d->attrs = mw_reallocarray(d->attrs, d->n + 1, sizeof(*d->attrs));
    d->attrs[d->n].name = name;
    d->attrs[d->n].value = mw_strndup(eq + 1, len - (size_t)(eq - line) - 1);
    d->n++;
}

/* The empty line ended a request: ask the plugins, or answer a malformed one. */
static void
mw_delegation_request(struct mw_conn *c, struct mw_delegation *d)
{
    const char *req = mw_delegation_find(d, "request");
    struct mw_accessq *q;
    struct mw_req *r;

    if (d->broken == NULL && d->n == 0)
        d->broken = "empty request";
    if (d->broken == NULL && (req == NULL || strcmp(req, "smtpd_access_policy") != 0))
        d->broken = "no request=smtpd_access_policy";
    if (d->broken != NULL) {
        mw_log_warn("policy: malformed request from %s: %s: answering %s", mw_conn_peer(c),
                    d->broken, MW_DELEGATION_TEMPFAIL);
        r = mw_conn_req_new(c, NULL);
        mw_buf_puts(&r->reply, "action=" MW_DELEGATION_TEMPFAIL " malformed policy request\n\n");
        mw_delegation_reset(d);
        mw_req_finish(r);
        return;
    }
    r = mw_conn_req_new(c, mw_delegation_find(d, "sender"));
    q = mw_policy_access_ask(mw_conn_policy(c), d->attrs, d->n, mw_delegation_done, r);
    d->attrs = NULL; /* moved into the question */
    d->n = 0;
    if (q != NULL)
        mw_req_wait(r, q);
}

static int
mw_delegation_input(struct mw_conn *c, struct evbuffer *in)
{
    struct mw_delegation **dp = (struct mw_delegation **)mw_conn_proto_data(c);
    struct mw_delegation *d;
    char line[MW_DELEGATION_LINE_MAX + 1];

    if (*dp == NULL)
        *dp = mw_calloc(1, sizeof(**dp));
    d = *dp;
    while (mw_conn_room(c)) {
        size_t eol_len, len;
        struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);

        if (eol.pos < 0) {
            len = evbuffer_get_length(in);
            if (d->skipping || len > MW_DELEGATION_LINE_MAX) {
                d->broken = d->broken ? d->broken : "line too long";
                d->skipping = 1;
                evbuffer_drain(in, len);
            }
            return 0;
        }
        len = (size_t)eol.pos;
        if (d->skipping || len > MW_DELEGATION_LINE_MAX) {
            d->broken = d->broken ? d->broken : "line too long";
            d->skipping = 0;
            evbuffer_drain(in, len + eol_len);
            continue;
        }
        evbuffer_remove(in, line, len);
        evbuffer_drain(in, eol_len);
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (len == 0)
            mw_delegation_request(c, d);
        else
            mw_delegation_attr(d, line, len);
    }
    return 0;
}

static void
mw_delegation_timeout(struct mw_req *r)
{
    mw_accessq_abandon(r->q);
    mw_buf_puts(&r->reply, "action=" MW_DELEGATION_TEMPFAIL " policy lookup timed out\n\n");
}

static void
mw_delegation_release(struct mw_req *r)
{
    mw_accessq_abandon(r->q);
}

static void
mw_delegation_conn_free(void **pp)
{
    struct mw_delegation *d = *pp;

    if (d == NULL)
        return;
    mw_delegation_reset(d);
    mw_free(pp);
}

const struct mw_proto mw_delegation_proto = {
    "policy",
    mw_delegation_input,
    mw_delegation_timeout,
    mw_delegation_release,
    mw_delegation_conn_free,
};
