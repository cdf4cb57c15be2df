/*
 * publish.c - mailward-policyd's HTTPS listener: our MTA-STS policies at
 * https://mta-sts.DOMAIN/.well-known/mta-sts.txt and TLS reports by POST
 * (see publish.h).
 *
 * libevent's evhttp does HTTP/1.1 (keep-alive, header and body limits,
 * timeouts) over bufferevent_openssl. What may change on SIGHUP (sites,
 * certificates) lives in one struct mw_publish_set, swapped as a whole:
 * each new connection takes the current default SSL_CTX, and SNI picks a
 * site's context from the current set. An open connection keeps the
 * context it was accepted with (the SSL holds a reference), so a reload
 * never drops it; requests on it are answered from the current sites.
 * Metrics: mailward_mta_sts_publish_requests_total{code} for the answers
 * this handler gives (libevent's own 400/413/501 are not counted).
 */
#include "config.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mw/alloc.h"
#include "mw/fileperm.h"
#include "mw/log.h"
#include "mw/metrics.h"
#include "mw/net.h"
#include "mw/tlsrpt.h"
#include "publish-table.h"
#include "publish-tls.h"
#include "publish.h"

#define MW_PUBLISH_SEC "mta-sts-publish"
#define MW_PUBLISH_POLICY_PATH "/.well-known/mta-sts.txt"

/* Everything a reload replaces. */
struct mw_publish_set {
    struct mw_sts_table sites;
    SSL_CTX *def;       /* section cert_file, else the first site's own */
    SSL_CTX **site_ctx; /* per site: its own context, or NULL for def */
    char *report_path;  /* "" = no POST */
    long hsts_max_age;
};

struct mw_publish {
    struct event_base *base;
    struct evhttp *http;
    char *listen;
    struct mw_publish_set *set;
};

static void
mw_publish_set_free(struct mw_publish_set **sp)
{
    struct mw_publish_set *s = *sp;

    if (s == NULL)
        return;
    for (size_t i = 0; s->site_ctx != NULL && i < s->sites.n; i++)
        if (s->site_ctx[i] != NULL)
            SSL_CTX_free(s->site_ctx[i]);
    if (s->def != NULL)
        SSL_CTX_free(s->def);
    mw_free(&s->site_ctx);
    mw_sts_table_release(&s->sites);
    mw_free(&s->report_path);
    mw_free(sp);
}

/* The sites of [mta-sts-publish] domains, added to t (file entries win). */
static int
mw_publish_section_sites(const struct mw_config *cfg, struct mw_sts_table *t, struct mw_err *err)
{
    struct mw_sts_site s;
    size_t nd;
    char **domains = mw_config_list(cfg, MW_PUBLISH_SEC, "domains", &nd);
    int rc = 0;

    memset(&s, 0, sizeof(s));
    s.mode = (char *)mw_config_str(cfg, MW_PUBLISH_SEC, "mode");
    s.max_age = (long)mw_config_int(cfg, MW_PUBLISH_SEC, "max_age");
    s.mx = mw_config_list(cfg, MW_PUBLISH_SEC, "mx", &s.nmx);
    if (nd > 0 && s.nmx == 0)
        rc = mw_err_set(err,
                        "[%s] mx is empty: name the MX patterns of %s (or run "
                        "mailwardctl sts init)",
                        MW_PUBLISH_SEC, domains[0]);
    for (size_t i = 0; i < s.nmx && rc == 0; i++)
        rc = mw_sts_mx_check(s.mx[i], err);
    for (size_t i = 0; i < nd && rc == 0; i++) {
        s.domain = domains[i];
        if ((rc = mw_sts_domain_check(s.domain, err)) == 0 &&
            mw_sts_table_find(t, s.domain) == NULL)
            mw_sts_table_put(t, &s);
    }
    mw_strv_free(&s.mx);
    mw_strv_free(&domains);
    return rc;
}

/* A TLS context from cert and key, once the key passed the secret file check. */
static SSL_CTX *
mw_publish_ctx(const struct mw_config *cfg, const char *cert, const char *key, struct mw_err *err)
{
    if (mw_fileperm_check(cfg, key, MW_FILEPERM_SECRET, err) < 0)
        return NULL;
    return mw_publish_tls_ctx(cert, key, err);
}

/* The TLS contexts of set; 0 or -1 with err set. */
static int
mw_publish_set_tls(struct mw_publish_set *set, const struct mw_config *cfg, struct mw_err *err)
{
    const char *cert = mw_config_str(cfg, MW_PUBLISH_SEC, "cert_file");
    const char *key = mw_config_str(cfg, MW_PUBLISH_SEC, "key_file");
    char host[300];

    set->site_ctx = mw_calloc(set->sites.n + 1, sizeof(*set->site_ctx));
    if (*cert && (set->def = mw_publish_ctx(cfg, cert, *key ? key : cert, err)) == NULL)
        return -1;
    for (size_t i = 0; i < set->sites.n; i++) {
        const struct mw_sts_site *s = &set->sites.sites[i];
        SSL_CTX *ctx = set->def;

        if (s->cert != NULL &&
            (ctx = set->site_ctx[i] = mw_publish_ctx(cfg, s->cert, s->key, err)) == NULL)
            return -1;
        if (ctx == NULL)
            return mw_err_set(err,
                              "%s has no certificate: set [%s] cert_file or cert= in policy_file",
                              s->domain, MW_PUBLISH_SEC);
        snprintf(host, sizeof(host), "mta-sts.%s", s->domain);
        if (!mw_publish_tls_covers(ctx, host))
            mw_log_warn("[%s] the certificate for %s does not cover %s: senders will refuse it",
                        MW_PUBLISH_SEC, s->domain, host);
    }
    if (set->def == NULL && set->sites.n > 0) {
        set->def = set->site_ctx[0];
        SSL_CTX_up_ref(set->def);
    }
    return 0;
}

static struct mw_publish_set *
mw_publish_set_new(const struct mw_config *cfg, struct mw_err *err)
{
    struct mw_publish_set *set = mw_calloc(1, sizeof(*set));
    const char *file = mw_config_str(cfg, MW_PUBLISH_SEC, "policy_file");

    set->report_path = mw_strdup(mw_config_str(cfg, MW_PUBLISH_SEC, "report_path"));
    set->hsts_max_age = (long)mw_config_int(cfg, MW_PUBLISH_SEC, "hsts_max_age");
    if ((*file && (mw_fileperm_check(cfg, file, MW_FILEPERM_TABLE, err) < 0 ||
                   mw_sts_table_load(file, 0, &set->sites, err) < 0)) ||
        mw_publish_section_sites(cfg, &set->sites, err) < 0 ||
        mw_publish_set_tls(set, cfg, err) < 0) {
        mw_publish_set_free(&set);
        return NULL;
    }
    if (set->sites.n == 0) {
        mw_err_set(err, "[%s] listen is set but no domain is configured", MW_PUBLISH_SEC);
        mw_publish_set_free(&set);
    }
    return set;
}

/* SNI: the context of the site whose mta-sts name the client asked for. */
static SSL_CTX *
mw_publish_pick(void *arg, const char *servername)
{
    struct mw_publish *p = arg;
    const struct mw_publish_set *set = p->set;

    if (strncasecmp(servername, "mta-sts.", 8) != 0)
        return NULL;
    for (size_t i = 0; i < set->sites.n; i++)
        if (strcasecmp(servername + 8, set->sites.sites[i].domain) == 0)
            return set->site_ctx[i];
    return NULL;
}

/* evhttp's new connection: a TLS bufferevent with the current default context. */
static struct bufferevent *
mw_publish_bev(struct event_base *base, void *arg)
{
    struct mw_publish *p = arg;
    SSL *ssl = SSL_new(p->set->def);

    if (ssl == NULL)
        return NULL;
    return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                          BEV_OPT_CLOSE_ON_FREE);
}

/* The site named by the request's Host header (mta-sts.DOMAIN[:port]), or NULL. */
static const struct mw_sts_site *
mw_publish_site(const struct mw_publish *p, struct evhttp_request *req)
{
    const char *host = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
    char name[256];
    size_t n;

    if (host == NULL || strncasecmp(host, "mta-sts.", 8) != 0)
        return NULL;
    n = strcspn(host + 8, ":");
    if (n == 0 || n >= sizeof(name) ||
        (host[8 + n] == ':' && strspn(host + 9 + n, "0123456789") != strlen(host + 9 + n)))
        return NULL;
    memcpy(name, host + 8, n);
    name[n] = '\0';
    if (n > 1 && name[n - 1] == '.')
        name[n - 1] = '\0';
    return mw_sts_table_find(&p->set->sites, name);
}

static void
mw_publish_reply(struct evhttp_request *req, int code, const char *reason, const char *text)
{
    struct evbuffer *body = evbuffer_new();
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);

    if (body == NULL)
        mw_log_panic("cannot allocate an evbuffer");
    evhttp_add_header(out, "Content-Type", "text/plain; charset=us-ascii");
    evbuffer_add_printf(body, "%s\r\n", text);
    evhttp_send_reply(req, code, reason, body);
    evbuffer_free(body);
}

/* POST report_path: one TLS report (lib/tlsrpt.c logs and counts it). */
static int
mw_publish_report(struct evhttp_request *req, const char *peer)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    const char *ctype = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
    int gz = mw_tlsrpt_content_type(ctype);
    size_t len = evbuffer_get_length(in);
    struct mw_err err;

    if (gz < 0) {
        mw_publish_reply(req, 415, "Unsupported Media Type",
                         "send application/tlsrpt+gzip or application/tlsrpt+json");
        return 415;
    }
    if (mw_tlsrpt_receive(evbuffer_pullup(in, (ev_ssize_t)len), len, gz, "https", peer, &err) < 0) {
        mw_publish_reply(req, 400, "Bad Request", err.text);
        return 400;
    }
    mw_publish_reply(req, 201, "Created", "report accepted");
    return 201;
}

static int
mw_publish_policy(struct mw_publish *p, struct evhttp_request *req, const struct mw_sts_site *s)
{
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    struct evbuffer *body = evbuffer_new();
    struct mw_buf text;
    char hsts[64];

    if (body == NULL)
        mw_log_panic("cannot allocate an evbuffer");
    mw_buf_init(&text);
    mw_sts_site_policy(s, &text);
    evbuffer_add(body, text.data, text.len);
    mw_buf_release(&text);
    snprintf(hsts, sizeof(hsts), "max-age=%ld", p->set->hsts_max_age);
    evhttp_add_header(out, "Content-Type", "text/plain");
    evhttp_add_header(out, "Strict-Transport-Security", hsts);
    evhttp_add_header(out, "Cache-Control", "no-cache");
    evhttp_send_reply(req, 200, "OK", body);
    evbuffer_free(body);
    return 200;
}

/* Count one answer by status (the few codes the handler gives: a bounded label set). */
static void
mw_publish_count(int code)
{
    char labels[32];

    snprintf(labels, sizeof(labels), "code=\"%d\"", code);
    mw_counter_inc(mw_metrics_counter("mailward_mta_sts_publish_requests_total", labels,
                                      "Requests answered by the MTA-STS publishing listener"));
}

static void
mw_publish_request(struct evhttp_request *req, void *arg)
{
    struct mw_publish *p = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    const struct mw_sts_site *site = mw_publish_site(p, req);
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    char *peer_addr = NULL;
    ev_uint16_t peer_port = 0;
    char peer[300];
    int code;

    evhttp_connection_get_peer(evcon, &peer_addr, &peer_port);
    snprintf(peer, sizeof(peer), "%s:%u", peer_addr ? peer_addr : "?", (unsigned)peer_port);
    if (path == NULL || site == NULL) {
        mw_publish_reply(req, 404, "Not Found", "not found");
        code = 404;
    } else if ((cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD) &&
               strcmp(path, MW_PUBLISH_POLICY_PATH) == 0) {
        code = mw_publish_policy(p, req, site);
    } else if (cmd == EVHTTP_REQ_POST && *p->set->report_path &&
               strcmp(path, p->set->report_path) == 0) {
        code = mw_publish_report(req, peer);
    } else {
        mw_publish_reply(req, 404, "Not Found", "not found");
        code = 404;
    }
    mw_publish_count(code);
    mw_log_info("%s: %s %s %s %.200s -> %d", MW_PUBLISH_SEC, peer, site ? site->domain : "-",
                cmd == EVHTTP_REQ_GET    ? "GET"
                : cmd == EVHTTP_REQ_HEAD ? "HEAD"
                : cmd == EVHTTP_REQ_POST ? "POST"
                                         : "other",
                path ? path : "-", code);
}

static void
mw_publish_limits(struct mw_publish *p, const struct mw_config *cfg)
{
    evhttp_set_timeout(p->http, (int)mw_config_int(cfg, MW_PUBLISH_SEC, "timeout"));
    evhttp_set_max_headers_size(p->http,
                                (ev_ssize_t)mw_config_int(cfg, MW_PUBLISH_SEC, "max_header_size"));
    evhttp_set_max_body_size(p->http,
                             (ev_ssize_t)mw_config_int(cfg, MW_PUBLISH_SEC, "max_body_size"));
}

int
mw_publish_new(struct mw_publish **pp, struct event_base *base, const struct mw_config *cfg,
               struct mw_err *err)
{
    struct mw_publish *p;

    *pp = NULL;
    if (*mw_config_str(cfg, MW_PUBLISH_SEC, "listen") == '\0')
        return 0;
    p = mw_calloc(1, sizeof(*p));
    p->base = base;
    p->listen = mw_strdup(mw_config_str(cfg, MW_PUBLISH_SEC, "listen"));
    if ((p->set = mw_publish_set_new(cfg, err)) == NULL) {
        mw_publish_free(&p);
        return -1;
    }
    mw_publish_tls_sni(p->set->def, mw_publish_pick, p);
    if ((p->http = evhttp_new(base)) == NULL)
        mw_log_panic("cannot create an evhttp server");
    evhttp_set_allowed_methods(p->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST);
    evhttp_set_bevcb(p->http, mw_publish_bev, p);
    evhttp_set_gencb(p->http, mw_publish_request, p);
    mw_publish_limits(p, cfg);
    *pp = p;
    return 0;
}

int
mw_publish_listen(struct mw_publish *p, struct mw_err *err)
{
    struct mw_endpoint ep;
    int fd;

    if (mw_endpoint_parse(p->listen, &ep, err) < 0)
        return -1;
    if (ep.is_unix)
        return mw_err_set(err, "%s: the HTTPS listener needs an address:port", p->listen);
    if ((fd = mw_net_listen(&ep, 1024, err)) < 0)
        return -1;
    if (evhttp_accept_socket(p->http, fd) < 0) {
        evutil_closesocket(fd);
        return mw_err_set(err, "%s: cannot serve HTTPS on it", p->listen);
    }
    mw_log_info("%s: listening on %s for %zu domain%s", MW_PUBLISH_SEC, p->listen, p->set->sites.n,
                p->set->sites.n == 1 ? "" : "s");
    return 0;
}

int
mw_publish_reload(struct mw_publish *p, const struct mw_config *cfg, struct mw_err *err)
{
    struct mw_publish_set *set = mw_publish_set_new(cfg, err);

    if (set == NULL)
        return -1;
    mw_publish_set_free(&p->set);
    p->set = set;
    mw_publish_tls_sni(set->def, mw_publish_pick, p);
    mw_publish_limits(p, cfg);
    mw_log_info("%s: %zu domain%s, certificates reloaded", MW_PUBLISH_SEC, set->sites.n,
                set->sites.n == 1 ? "" : "s");
    return 0;
}

void
mw_publish_free(struct mw_publish **pp)
{
    struct mw_publish *p = *pp;

    if (p == NULL)
        return;
    if (p->http != NULL)
        evhttp_free(p->http);
    mw_publish_set_free(&p->set);
    mw_free(&p->listen);
    mw_free(pp);
}
