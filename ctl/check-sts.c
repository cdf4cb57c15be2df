/*
 * check-sts.c - the MTA-STS item of "mailwardctl check" (RFC 8461).
 *
 * The _mta-sts TXT record and the policy are parsed by the mta-sts
 * plugin's parsers (plugins/mta-sts/policy.c). The policy is fetched with
 * libcurl's easy interface under the plugin's rules (fetch.h): HTTPS only,
 * TLS 1.2 or later, the certificate must chain to ca_file (or the system
 * store) and be valid for mta-sts.DOMAIN (also the SNI), no redirects,
 * only a 200 with text/plain counts, at most MW_STS_POLICY_MAX bytes, one
 * timeout for the whole transfer; mta-sts.DOMAIN is resolved through the
 * configured resolver, not by libcurl. Then every published MX host must
 * match a pattern of the policy (section 4.1: "*." stands for exactly one
 * label).
 */
#include "config.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "mta-sts/policy.h"
#include "mw/alloc.h"

struct ck_body {
    struct mw_buf buf;
    int too_long;
};

static size_t
ck_sts_write(char *data, size_t size, size_t n, void *arg)
{
    struct ck_body *b = arg;

    if (b->buf.len + size * n > MW_STS_POLICY_MAX) {
        b->too_long = 1;
        return 0;
    }
    mw_buf_append(&b->buf, data, size * n);
    return size * n;
}

/* The CURLOPT_RESOLVE entry "HOST:443:ADDR,..." from the A and AAAA records of host. */
static int
ck_sts_resolve(const struct ck_ctx *c, const char *host, struct mw_buf *out, struct mw_err *why)
{
    static const int types[2] = {MW_DNS_A, MW_DNS_AAAA};
    size_t naddr = 0;

    mw_buf_printf(out, "%s:443:", host);
    for (int t = 0; t < 2; t++) {
        struct mw_dns_answer *a = NULL;
        char addr[MW_DNS_ADDR_TEXT];
        struct mw_err err;

        if (mw_dns_resolve(c->dns, host, types[t], &a, why) < 0)
            return -1;
        if (a->status == MW_DNS_TEMPFAIL || a->status == MW_DNS_TIMEOUT) {
            ck_dns_why(a, why);
            mw_dns_answer_free(&a);
            return -1;
        }
        for (size_t i = 0; i < a->count; i++) {
            if (mw_dns_addr_decode(types[t], a->rr[i].data, a->rr[i].len, addr, &err) < 0)
                continue;
            mw_buf_printf(out, types[t] == MW_DNS_A ? "%s%s" : "%s[%s]", naddr++ ? "," : "", addr);
        }
        mw_dns_answer_free(&a);
    }
    return naddr ? 0 : mw_err_set(why, "%s has no address", host);
}

/* The certificate's subject and expiry (CURLOPT_CERTINFO), as a detail. */
static void
ck_sts_certinfo(CURL *e, struct ck_item *it)
{
    struct curl_certinfo *ci = NULL;
    const char *subject = "?", *expire = "?";

    if (curl_easy_getinfo(e, CURLINFO_CERTINFO, &ci) != CURLE_OK || ci == NULL ||
        ci->num_of_certs < 1)
        return;
    for (struct curl_slist *s = ci->certinfo[0]; s != NULL; s = s->next) {
        if (strncmp(s->data, "Subject:", 8) == 0)
            subject = s->data + 8;
        else if (strncmp(s->data, "Expire date:", 12) == 0)
            expire = s->data + 12;
    }
    ck_detail(it, "certificate", "verified; subject %s; expires %s", subject, expire);
}

/* GET the policy into body; 0, or -1 with why. */
static int
ck_sts_fetch(const struct ck_ctx *c, const char *host, const char *resolve, struct ck_body *body,
             struct ck_item *it, struct mw_err *why)
{
    char url[MW_DNS_NAME_MAX + 64], errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *rl = curl_slist_append(NULL, resolve);
    CURL *e = curl_easy_init();
    const char *ctype = NULL;
    long status = 0;
    CURLcode rc;
    int ret = -1;

    if (e == NULL || rl == NULL) {
        mw_err_set(why, "libcurl: out of memory");
        goto out;
    }
    snprintf(url, sizeof(url), "https://%s/.well-known/mta-sts.txt", host);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_RESOLVE, rl);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (c->ca_file[0] != '\0')
        curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)MW_STS_POLICY_MAX);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, ck_sts_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_CERTINFO, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "mailwardctl/" PACKAGE_VERSION " (MTA-STS check)");
    rc = curl_easy_perform(e);
    if (body->too_long) {
        mw_err_set(why, "policy longer than %d bytes", MW_STS_POLICY_MAX);
        goto out;
    }
    if (rc != CURLE_OK) {
        mw_err_set(why, "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
        goto out;
    }
    ck_sts_certinfo(e, it);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &ctype);
    if (status != 200) {
        mw_err_set(why, "%s: HTTP status %ld%s", url, status,
                   status >= 300 && status < 400 ? " (redirects are not followed)" : "");
        goto out;
    }
    if (ctype == NULL || strncasecmp(ctype, "text/plain", 10) != 0 ||
        (ctype[10] != '\0' && ctype[10] != ';' && ctype[10] != ' ')) {
        mw_err_set(why, "%s: content type %.80s, not text/plain", url, ctype ? ctype : "missing");
        goto out;
    }
    ck_detail(it, "fetch", "%s: HTTP 200, %s, %zu bytes", url, ctype, body->buf.len);
    ret = 0;
out:
    curl_easy_cleanup(e);
    curl_slist_free_all(rl);
    return ret;
}

/* RFC 8461 section 4.1: exact (any case), or "*." and exactly one more label. */
static int
ck_sts_match(const char *pattern, const char *host)
{
    const char *dot;

    if (strncmp(pattern, "*.", 2) != 0)
        return strcasecmp(pattern, host) == 0;
    dot = strchr(host, '.');
    return dot != NULL && dot != host && strcasecmp(dot + 1, pattern + 2) == 0;
}

/* Every MX host of the domain against the policy; the verdict on mismatches. */
static void
ck_sts_mx(const struct ck_ctx *c, const struct mw_sts_policy *p, struct ck_item *it)
{
    struct mw_dns_answer *a = NULL;
    struct mw_err why;
    struct mw_buf hosts;
    size_t bad = 0;

    if (mw_dns_resolve(c->dns, c->domain, MW_DNS_MX, &a, &why) < 0 ||
        (a->status != MW_DNS_OK && a->status != MW_DNS_NODATA && a->status != MW_DNS_NXDOMAIN)) {
        if (a != NULL)
            ck_dns_why(a, &why);
        ck_set(it, CK_FAIL, "MX lookup: %s", why.text);
        mw_dns_answer_free(&a);
        return;
    }
    mw_buf_init(&hosts);
    for (size_t i = 0; i < a->count; i++) {
        struct mw_dns_mx mx;
        size_t k = 0;

        if (mw_dns_mx_decode(a->rr[i].data, a->rr[i].len, &mx, &why) < 0)
            continue;
        while (k < p->nmx && !ck_sts_match(p->mx[k], mx.exchange))
            k++;
        mw_buf_printf(&hosts, "%s%s (%s)", hosts.len ? ", " : "", mx.exchange,
                      k < p->nmx ? "matches" : "NO MATCH");
        if (k == p->nmx) {
            bad++;
            ck_set(it, p->mode == MW_STS_MODE_ENFORCE ? CK_FAIL : CK_WARN,
                   "MX host %s matches no mx pattern of the policy", mx.exchange);
        }
    }
    ck_detail(it, "mx hosts", "%s", hosts.len ? hosts.data : "none");
    if (hosts.len == 0)
        ck_set(it, CK_FAIL, "%s has no MX records", c->domain);
    mw_buf_release(&hosts);
    mw_dns_answer_free(&a);
}

/* Fetch, parse and judge the policy once the TXT record is there. */
static void
ck_sts_policy(const struct ck_ctx *c, struct ck_item *it)
{
    char host[MW_DNS_NAME_MAX + 16];
    struct ck_body body = {0};
    struct mw_buf resolve, pats;
    struct mw_sts_policy *p = NULL;
    struct mw_err why;

    snprintf(host, sizeof(host), "mta-sts.%s", c->domain);
    mw_buf_init(&resolve);
    mw_buf_init(&body.buf);
    mw_buf_init(&pats);
    if (ck_sts_resolve(c, host, &resolve, &why) < 0 ||
        ck_sts_fetch(c, host, resolve.data, &body, it, &why) < 0) {
        ck_set(it, CK_FAIL, "policy fetch: %s", why.text);
        goto out;
    }
    if (mw_sts_policy_parse(body.buf.data ? body.buf.data : "", body.buf.len, &p, &why) < 0) {
        ck_set(it, CK_FAIL, "invalid policy: %s", why.text);
        goto out;
    }
    for (size_t i = 0; i < p->nmx; i++)
        mw_buf_printf(&pats, "%s%s", i ? " " : "", p->mx[i]);
    ck_detail(it, "mode", "%s", mw_sts_mode_name(p->mode));
    ck_detail(it, "max_age", "%lu", p->max_age);
    ck_detail(it, "mx patterns", "%s", pats.len ? pats.data : "none");
    if (p->mode == MW_STS_MODE_NONE) {
        ck_set(it, CK_WARN, "mode none: the policy is withdrawn");
        goto out;
    }
    if (p->max_age < 86400)
        ck_set(it, CK_WARN, "max_age %lu is below a day (RFC 8461 suggests weeks)", p->max_age);
    ck_sts_mx(c, p, it);
    if (p->mode == MW_STS_MODE_TESTING)
        ck_set(it, CK_WARN, "mode testing: senders report failures but deliver anyway");
    ck_set(it, CK_OK, "policy %s, every MX host matches", mw_sts_mode_name(p->mode));
out:
    mw_sts_policy_free(&p);
    mw_buf_release(&pats);
    mw_buf_release(&body.buf);
    mw_buf_release(&resolve);
}

void
ck_sts(const struct ck_ctx *c, struct ck_item *it)
{
    char name[MW_DNS_NAME_MAX + 16], id[MW_STS_ID_MAX + 1];
    struct mw_buf *recs;
    struct mw_err why;
    size_t n, sts = 0;

    snprintf(name, sizeof(name), "_mta-sts.%s", c->domain);
    if (ck_txt(c, name, &recs, &n, NULL, &why) < 0) {
        ck_set(it, CK_FAIL, "TXT lookup: %s", why.text);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (mw_sts_txt_is_sts(recs[i].data, recs[i].len)) {
            ck_detail(it, sts ? "txt (another)" : "txt", "%s", recs[i].data);
            sts++;
        }
    if (sts == 0) {
        ck_set(it, CK_NONE, "no v=STSv1 record at %s", name);
    } else if (mw_sts_txt_pick(recs, n, id, &why) < 0) {
        ck_set(it, CK_FAIL, "%s: %s", name, why.text);
    } else {
        ck_detail(it, "id", "%s", id);
        ck_sts_policy(c, it);
    }
    ck_txt_free(&recs, n);
}
