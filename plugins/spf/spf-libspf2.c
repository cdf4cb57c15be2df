/*
 * spf-libspf2.c - the "libspf2" engine of spf-engine.h: Debian's libspf2
 * evaluates check_host() and every lookup it makes goes through the same
 * struct mw_spf_dns callback as the native engine (a custom
 * SPF_dns_server_t layer), so production uses the host's resolver and the
 * RFC 7208 suite runner uses the suite's zone data.
 *
 * Each call builds its own SPF_server_t, request and response and frees
 * them before returning; the DNS layer lives on the caller's stack and is
 * not owned by libspf2 (no destroy function). libspf2's log handlers are
 * global: they are pointed at mw/log.h once (pthread_once); an internal
 * libspf2 error (its SPF_error(), which must not return) is a panic.
 *
 * Mapping to enum mw_spf_result: libspf2's results map one to one, except
 * that libspf2 leaves the result unset ("(invalid)") when the top-level
 * record fails to compile or its lookup fails: a DNS error code is then
 * temperror, anything else permerror. The explanation is only reported
 * when it came from an exp= (libspf2's own default text is set to a
 * sentinel that is filtered out). libspf2 does not say which mechanism
 * decided, so verdict.mechanism stays NULL.
 *
 * The engine gives libspf2 an IPv4-mapped client as IPv4 (RFC 7208 §5),
 * which libspf2 would not do. Its other deviations from RFC 7208 remain
 * (client 127.0.0.0/8 and ::1 always pass, /0 CIDRs rejected, redirect=
 * acted on where it stands, spaces in explanations mangled, no void lookup
 * limit, ...): ../shared/testdata/spf/libspf2-conformance.md and the
 * failures tests/spf/suite.sh lists for libspf2.
 * Thread-safe: no libspf2 object is shared between calls.
 */
#include "config.h"

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <spf2/spf.h>

#include "mw/alloc.h"
#include "mw/log.h"
#include "spf-engine.h"

#define MW_SPF2_NO_EXP "mailward-libspf2-default-explanation"

static void mw_spf2_log_error(const char *file, int line, const char *msg)
    __attribute__((noreturn));

static void
mw_spf2_log_error(const char *file, int line, const char *msg)
{
    mw_log_panic("libspf2: %s:%d: %s", file ? file : "?", line, msg ? msg : "");
}

static void
mw_spf2_log_debug(const char *file, int line, const char *msg)
{
    mw_log_debug("libspf2: %s:%d: %s", file ? file : "?", line, msg ? msg : "");
}

static pthread_once_t mw_spf2_once = PTHREAD_ONCE_INIT;

static void
mw_spf2_set_handlers(void)
{
    SPF_error_handler = mw_spf2_log_error;
    SPF_warning_handler = mw_spf2_log_debug;
    SPF_info_handler = mw_spf2_log_debug;
}

static int
mw_spf2_qtype(ns_type type, enum mw_spf_qtype *qt)
{
    switch (type) {
    case ns_t_txt:
        *qt = MW_SPF_TXT;
        return 0;
    case ns_t_a:
        *qt = MW_SPF_A;
        return 0;
    case ns_t_aaaa:
        *qt = MW_SPF_AAAA;
        return 0;
    case ns_t_mx:
        *qt = MW_SPF_MX;
        return 0;
    case ns_t_ptr:
        *qt = MW_SPF_PTR;
        return 0;
    default:
        return -1; /* type SPF (99) and anything else: no data */
    }
}

static SPF_dns_stat_t
mw_spf2_herrno(enum mw_spf_dns_rc rc)
{
    switch (rc) {
    case MW_SPF_DNS_OK:
        return NETDB_SUCCESS;
    case MW_SPF_DNS_NXDOMAIN:
        return HOST_NOT_FOUND;
    case MW_SPF_DNS_NODATA:
        return NO_DATA;
    default:
        return TRY_AGAIN;
    }
}

/* Room for record n of len bytes in spfrr; libspf2 failing here is OOM. */
static void *
mw_spf2_slot(SPF_dns_rr_t *spfrr, int n, size_t len)
{
    if (SPF_dns_rr_buf_realloc(spfrr, n, len) != SPF_E_SUCCESS)
        mw_log_panic("libspf2: out of memory");
    return spfrr->rr[n];
}

/* Copy our answer into libspf2's; returns the number of records. */
static int
mw_spf2_fill(SPF_dns_rr_t *spfrr, ns_type type, const struct mw_spf_rrset *rr)
{
    int n = 0;

    if (type == ns_t_a || type == ns_t_aaaa) {
        int fam = type == ns_t_a ? AF_INET : AF_INET6;
        size_t len = fam == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
        for (size_t i = 0; i < rr->nip && n < 1000; i++)
            if (rr->ip[i].family == fam)
                memcpy(mw_spf2_slot(spfrr, n++, len), rr->ip[i].b, len);
        return n;
    }
    for (size_t i = 0; i < rr->nstr && n < 1000; i++) {
        size_t len = strlen(rr->str[i]) + 1;
        memcpy(mw_spf2_slot(spfrr, n++, len), rr->str[i], len);
    }
    return n;
}

/* SPF_dns_server_t.lookup: one query through the mw_spf_dns callback. */
static SPF_dns_rr_t *
mw_spf2_lookup(SPF_dns_server_t *layer, const char *domain, ns_type type, int should_cache)
{
    const struct mw_spf_dns *dns = layer->hook;
    struct mw_spf_rrset rr = {0};
    enum mw_spf_dns_rc rc = MW_SPF_DNS_NODATA;
    enum mw_spf_qtype qt;
    SPF_dns_rr_t *spfrr;
    size_t len = domain ? strlen(domain) : 0;
    char *name;
    int n = 0;

    (void)should_cache;
    if (len > 0 && domain[len - 1] == '.')
        len--;
    name = mw_strndup(domain ? domain : "", len);
    if (len == 0 || len > 1024)
        rc = MW_SPF_DNS_NXDOMAIN; /* nothing a resolver could ask for */
    else if (mw_spf2_qtype(type, &qt) == 0)
        rc = dns->lookup(dns->ctx, name, qt, &rr);
    spfrr = SPF_dns_rr_new_init(layer, domain ? domain : "", type, 0, mw_spf2_herrno(rc));
    if (!spfrr)
        mw_log_panic("libspf2: out of memory");
    if (rc == MW_SPF_DNS_OK && (n = mw_spf2_fill(spfrr, type, &rr)) == 0)
        spfrr->herrno = NO_DATA;
    spfrr->num_rr = n;
    mw_spf_rrset_clear(&rr);
    mw_free(&name);
    return spfrr;
}

/* The MAIL FROM libspf2 should check so that its domain is `domain`. */
static char *
mw_spf2_env_from(const char *domain, const char *sender, const char *helo)
{
    const char *at = sender ? strrchr(sender, '@') : NULL;
    size_t n = strlen(domain) + sizeof("postmaster@");
    char *s;

    if (at && strcasecmp(at + 1, domain) == 0)
        return mw_strdup(sender);
    if ((!sender || !*sender) && helo && strcasecmp(helo, domain) == 0)
        return mw_strdup(""); /* libspf2 makes it postmaster@HELO */
    s = mw_malloc(n);
    memcpy(s, "postmaster@", sizeof("postmaster@") - 1);
    memcpy(s + sizeof("postmaster@") - 1, domain, strlen(domain) + 1);
    return s;
}

static enum mw_spf_result
mw_spf2_result(SPF_result_t r, SPF_errcode_t err)
{
    switch (r) {
    case SPF_RESULT_NEUTRAL:
        return MW_SPF_NEUTRAL;
    case SPF_RESULT_PASS:
        return MW_SPF_PASS;
    case SPF_RESULT_FAIL:
        return MW_SPF_FAIL;
    case SPF_RESULT_SOFTFAIL:
        return MW_SPF_SOFTFAIL;
    case SPF_RESULT_NONE:
        return MW_SPF_NONE;
    case SPF_RESULT_TEMPERROR:
        return MW_SPF_TEMPERROR;
    case SPF_RESULT_PERMERROR:
        return MW_SPF_PERMERROR;
    default:
        return err == SPF_E_DNS_ERROR ? MW_SPF_TEMPERROR : MW_SPF_PERMERROR;
    }
}

/* A printable copy of libspf2's first error message (or of err). */
static char *
mw_spf2_problem(SPF_response_t *resp, SPF_errcode_t err)
{
    const char *msg = NULL;
    char *s;

    for (int i = 0; resp && i < SPF_response_messages(resp) && !msg; i++) {
        SPF_error_t *e = SPF_response_message(resp, i);
        if (e && e->is_error)
            msg = SPF_error_message(e);
    }
    if (!msg)
        msg = SPF_strerror(err);
    s = mw_strndup(msg ? msg : "libspf2 error", 200);
    for (char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            *p = '?';
    return s;
}

/* The client; an IPv4-mapped IPv6 address is given to libspf2 as the IPv4
 * address it is (RFC 7208 §5), which libspf2 does not do itself. */
static int
mw_spf2_set_client(SPF_request_t *req, const struct mw_spf_ip *ip)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    struct in_addr a4;
    struct in6_addr a6;

    if (ip->family == AF_INET6 && memcmp(ip->b, mapped, sizeof(mapped)) == 0) {
        memcpy(&a4, ip->b + 12, sizeof(a4));
        return SPF_request_set_ipv4(req, a4) == SPF_E_SUCCESS ? 0 : -1;
    }
    if (ip->family == AF_INET) {
        memcpy(&a4, ip->b, sizeof(a4));
        return SPF_request_set_ipv4(req, a4) == SPF_E_SUCCESS ? 0 : -1;
    }
    if (ip->family == AF_INET6) {
        memcpy(&a6, ip->b, sizeof(a6));
        return SPF_request_set_ipv6(req, a6) == SPF_E_SUCCESS ? 0 : -1;
    }
    return -1;
}

/* The query itself, with server and request set up. */
static void
mw_spf2_query(SPF_server_t *srv, const struct mw_spf_ip *ip, const char *domain, const char *sender,
              const char *helo, struct mw_spf_verdict *out)
{
    SPF_request_t *req = SPF_request_new(srv);
    SPF_response_t *resp = NULL;
    SPF_errcode_t err = SPF_E_INTERNAL_ERROR;
    char *from = mw_spf2_env_from(domain, sender, helo);

    if (req && mw_spf2_set_client(req, ip) == 0 &&
        SPF_request_set_helo_dom(req, helo && *helo ? helo : domain) == SPF_E_SUCCESS &&
        SPF_request_set_env_from(req, from) == 0)
        err = SPF_request_query_mailfrom(req, &resp);
    out->result = resp ? mw_spf2_result(SPF_response_result(resp), err) : MW_SPF_TEMPERROR;
    if (out->result == MW_SPF_FAIL && resp) {
        const char *exp = SPF_response_get_explanation(resp);
        if (exp && strcmp(exp, MW_SPF2_NO_EXP) != 0)
            out->explanation = mw_strdup(exp);
    }
    if (out->result == MW_SPF_NONE || out->result == MW_SPF_TEMPERROR ||
        out->result == MW_SPF_PERMERROR)
        out->problem = mw_spf2_problem(resp, err);
    if (resp)
        SPF_response_free(resp);
    if (req)
        SPF_request_free(req);
    mw_free(&from);
}

static void
mw_spf2_check_host(const struct mw_spf_dns *dns, const struct mw_spf_ip *ip, const char *domain,
                   const char *sender, const char *helo, const char *receiver,
                   struct mw_spf_verdict *out)
{
    SPF_dns_server_t layer;
    SPF_server_t *srv;
    SPF_response_t *setup = NULL;

    memset(out, 0, sizeof(*out));
    if (!dns || !dns->lookup || !ip || !domain) {
        out->result = MW_SPF_TEMPERROR;
        out->problem = mw_strdup("check_host() called without a resolver, client or domain");
        return;
    }
    pthread_once(&mw_spf2_once, mw_spf2_set_handlers);
    memset(&layer, 0, sizeof(layer));
    layer.lookup = mw_spf2_lookup;
    layer.name = "mailward";
    layer.hook = (void *)(uintptr_t)dns; /* read only, despite the type */
    srv = SPF_server_new_dns(&layer, 0);
    if (!srv)
        mw_log_panic("libspf2: out of memory");
    if (SPF_server_set_explanation(srv, MW_SPF2_NO_EXP, &setup) != SPF_E_SUCCESS ||
        SPF_server_set_rec_dom(srv, receiver ? receiver : "unknown") != SPF_E_SUCCESS) {
        out->result = MW_SPF_TEMPERROR;
        out->problem = mw_strdup("libspf2 setup failed");
    } else {
        mw_spf2_query(srv, ip, domain, sender, helo, out);
    }
    if (setup)
        SPF_response_free(setup);
    SPF_server_free(srv);
}

const struct mw_spf_engine mw_spf_engine_libspf2 = {"libspf2", mw_spf2_check_host};
