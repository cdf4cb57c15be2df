/*
 * socketmap.c - the Postfix socketmap_table(5) protocol for
 * smtp_tls_policy_maps (see socketmap.h).
 *
 * Request: netstring "NAME KEY" (NAME is the map name from main.cf, e.g.
 * "mailward"; any name is served). Reply: netstring "OK policy",
 * "NOTFOUND ", "TEMP reason", "TIMEOUT reason" or "PERM reason".
 *
 * KEY is the next-hop domain: lower-cased, a trailing dot removed; a leading
 * dot marks Postfix's parent-domain lookup. Postfix also looks up explicit
 * next-hops from the transport table ("[mx.example.com]:587",
 * "example.com:submission", "[192.0.2.1]"); those name no domain policy,
 * so they are answered NOTFOUND without asking plugins, once their form
 * has been checked. Anything else that is not a domain is answered PERM and
 * the connection stays usable. A broken
 * netstring frame cannot be resynchronised: it is answered PERM, everything
 * buffered is discarded, and reading goes on (the client's next request
 * starts a new frame).
 */
#include "config.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mw/alloc.h"
#include "mw/log.h"
#include "mw/metrics.h"
#include "mw/netstring.h"
#include "socketmap.h"

/* Count one answer by its status word (a handful of series, looked up once each). */
static void
mw_socketmap_count(const char *status)
{
    static const char *const names[] = {"OK", "NOTFOUND", "TEMP", "PERM"};
    static struct mw_counter *counters[4];

    for (size_t i = 0; i < 4; i++) {
        if (strcmp(status, names[i]) != 0)
            continue;
        if (counters[i] == NULL) {
            char labels[32];
            snprintf(labels, sizeof(labels), "answer=\"%s\"", names[i]);
            counters[i] = mw_metrics_counter("mailward_policyd_socketmap_answers_total", labels,
                                             "socketmap answers, per answer type");
        }
        mw_counter_inc(counters[i]);
    }
}

/* A port or service name after a next-hop: digits, or letters, digits and '-'. */
static int
mw_socketmap_port_ok(const char *p, size_t len)
{
    if (len == 0 || len > 32)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'z') ||
              (p[i] >= 'A' && p[i] <= 'Z') || p[i] == '-'))
            return 0;
    return 1;
}

/*
 * An explicit next-hop: "[HOST]", "[HOST]:PORT" or "DOMAIN:PORT", where HOST
 * is a domain, an IPv4 or an IPv6 address (optionally "ipv6:"-prefixed).
 */
static int
mw_socketmap_nexthop_ok(const char *key, size_t len)
{
    char host[MW_DOMAIN_MAX + 1], dom[MW_DOMAIN_MAX + 1];
    unsigned char addr[16];
    const char *h = key, *hend, *port = NULL, *kend = key + len;
    struct mw_err err;
    size_t hlen;

    if (key[0] == '[') {
        h = key + 1;
        if ((hend = memchr(h, ']', (size_t)(kend - h))) == NULL)
            return 0;
        if (hend + 1 < kend) {
            if (hend[1] != ':')
                return 0;
            port = hend + 2;
        }
    } else {
        if ((hend = memchr(key, ':', len)) == NULL)
            return 0;
        port = hend + 1;
    }
    if (port != NULL && !mw_socketmap_port_ok(port, (size_t)(kend - port)))
        return 0;
    if ((hlen = (size_t)(hend - h)) == 0 || hlen > MW_DOMAIN_MAX)
        return 0;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    if (memchr(host, '\0', hlen) != NULL)
        return 0;
    if (strncasecmp(host, "ipv6:", 5) == 0)
        return inet_pton(AF_INET6, host + 5, addr) == 1;
    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1 ||
           mw_policy_domain_parse(host, hlen, dom, &err) == 0;
}

static void
mw_socketmap_reply(struct mw_req *r, const char *status, const char *text)
{
    struct mw_buf b;

    mw_socketmap_count(status);
    mw_buf_init(&b);
    mw_buf_printf(&b, "%s %s", status, text);
    mw_netstring_append(&r->reply, b.data, b.len);
    mw_buf_release(&b);
}

static void
mw_socketmap_done(void *arg, enum mw_tls_answer answer, const char *text, const char *plugin)
{
    struct mw_req *r = arg;
    static const char *const status[] = {"NOTFOUND", "OK", "TEMP", "PERM"};

    mw_log_debug("socketmap: %s from %s: %s %s%s%s%s", r->what, mw_conn_peer(r->conn),
                 status[answer], text, plugin ? " (" : "", plugin ? plugin : "", plugin ? ")" : "");
    mw_socketmap_reply(r, status[answer], answer == MW_TLS_NOTFOUND ? "" : text);
    mw_req_finish(r);
}

/* A complete request payload (not NUL-terminated, may hold anything). */
static void
mw_socketmap_request(struct mw_conn *c, const char *data, size_t len)
{
    const char *sp = memchr(data, ' ', len);
    const char *key;
    size_t klen;
    int parent;
    char dom[MW_DOMAIN_MAX + 1], what[MW_DOMAIN_MAX + 2];
    struct mw_err err;
    struct mw_req *r;
    struct mw_tlsq *q;

    if (sp == NULL || sp == data || sp + 1 == data + len) {
        r = mw_conn_req_new(c, NULL);
        mw_log_warn("socketmap: malformed request from %s: not \"NAME KEY\"", mw_conn_peer(c));
        mw_socketmap_reply(r, "PERM", "malformed request, expected \"NAME KEY\"");
        mw_req_finish(r);
        return;
    }
    key = sp + 1;
    klen = (size_t)(data + len - key);
    parent = key[0] == '.';
    if (key[0] == '[' || memchr(key, ':', klen) != NULL) {
        r = mw_conn_req_new(c, NULL);
        if (mw_socketmap_nexthop_ok(key, klen)) {
            mw_log_debug("socketmap: explicit next-hop from %s: NOTFOUND", mw_conn_peer(c));
            mw_socketmap_reply(r, "NOTFOUND", "");
        } else {
            mw_log_warn("socketmap: bad key from %s: not a domain or next-hop", mw_conn_peer(c));
            mw_socketmap_reply(r, "PERM", "malformed next-hop");
        }
        mw_req_finish(r);
        return;
    }
    if (mw_policy_domain_parse(key + parent, klen - (size_t)parent, dom, &err) < 0) {
        r = mw_conn_req_new(c, NULL);
        mw_log_warn("socketmap: bad key from %s: %s", mw_conn_peer(c), err.text);
        mw_socketmap_reply(r, "PERM", err.text);
        mw_req_finish(r);
        return;
    }
    snprintf(what, sizeof(what), "%s%s", parent ? "." : "", dom);
    r = mw_conn_req_new(c, what);
    q = mw_policy_tls_ask(mw_conn_policy(c), dom, parent, mw_socketmap_done, r);
    if (q != NULL)
        mw_req_wait(r, q);
}

static int
mw_socketmap_input(struct mw_conn *c, struct evbuffer *in)
{
    size_t len, dlen, used;
    const char *buf, *data;
    struct mw_err err;
    struct mw_req *r;

    while (mw_conn_room(c) && (len = evbuffer_get_length(in)) > 0) {
        /* A whole request fits in MW_SOCKETMAP_REQUEST_MAX plus its frame. */
        if (len > MW_SOCKETMAP_REQUEST_MAX + 16)
            len = MW_SOCKETMAP_REQUEST_MAX + 16;
        buf = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
        switch (mw_netstring_parse(buf, len, MW_SOCKETMAP_REQUEST_MAX, &data, &dlen, &used, &err)) {
        case MW_NETSTRING_MORE:
            return 0;
        case MW_NETSTRING_ERROR:
            mw_log_warn("socketmap: from %s: %s: discarding %zu buffered bytes", mw_conn_peer(c),
                        err.text, evbuffer_get_length(in));
            evbuffer_drain(in, evbuffer_get_length(in));
            r = mw_conn_req_new(c, NULL);
            mw_socketmap_reply(r, "PERM", err.text);
            mw_req_finish(r);
            return 0;
        case MW_NETSTRING_OK:
            mw_socketmap_request(c, data, dlen);
            evbuffer_drain(in, used);
            break;
        }
    }
    return 0;
}

static void
mw_socketmap_timeout(struct mw_req *r)
{
    mw_tlsq_abandon(r->q);
    mw_socketmap_reply(r, "TEMP", "policy lookup timed out");
}

static void
mw_socketmap_release(struct mw_req *r)
{
    mw_tlsq_abandon(r->q);
}

static void
mw_socketmap_conn_free(void **pp)
{
}

const struct mw_proto mw_socketmap_proto = {
    "socketmap",          mw_socketmap_input,     mw_socketmap_timeout,
    mw_socketmap_release, mw_socketmap_conn_free,
};
