/*
 * spf-dns.c - struct mw_spf_dns over the host resolver (see spf-dns.h).
 * Part of the spf plugin module (plugins/spf/plugin.mk), not of libmwspf.
 *
 * Each record of an answer is decoded on its own; a record that does not
 * decode (a truncated A, a malformed MX name) is logged and skipped, never
 * passed on half-read. Memory handed to the evaluator is added with
 * mw_spf_rrset_add_*, which copies; the answer is freed here.
 */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "mw/buf.h"
#include "mw/dns.h"
#include "mw/log.h"
#include "spf-dns.h"

static int
mw_spf_dns_rrtype(enum mw_spf_qtype t)
{
    switch (t) {
    case MW_SPF_TXT:
        return MW_DNS_TXT;
    case MW_SPF_A:
        return MW_DNS_A;
    case MW_SPF_AAAA:
        return MW_DNS_AAAA;
    case MW_SPF_MX:
        return MW_DNS_MX;
    case MW_SPF_PTR:
        return MW_DNS_PTR;
    }
    return -1;
}

/* Decode one record of a into out; -1 (logged) if it is malformed. */
static int
mw_spf_dns_record(const struct mw_dns_answer *a, const struct mw_dns_rr *rr,
                  struct mw_spf_rrset *out)
{
    struct mw_err err;
    struct mw_dns_mx mx;
    struct mw_spf_ip ip;
    struct mw_buf txt;
    char name[MW_DNS_NAME_TEXT];
    size_t off = 0;
    int rc = 0;

    switch (a->qtype) {
    case MW_DNS_TXT:
        mw_buf_init(&txt);
        if ((rc = mw_dns_txt_decode(rr->data, rr->len, &txt, &err)) == 0)
            mw_spf_rrset_add_str(out, txt.data, txt.len);
        mw_buf_release(&txt);
        break;
    case MW_DNS_A:
    case MW_DNS_AAAA:
        if (rr->len != (a->qtype == MW_DNS_A ? 4u : 16u)) {
            rc = mw_err_set(&err, "address of %zu bytes", rr->len);
            break;
        }
        memset(&ip, 0, sizeof(ip));
        ip.family = a->qtype == MW_DNS_A ? AF_INET : AF_INET6;
        memcpy(ip.b, rr->data, rr->len);
        mw_spf_rrset_add_ip(out, &ip);
        break;
    case MW_DNS_MX:
        if ((rc = mw_dns_mx_decode(rr->data, rr->len, &mx, &err)) == 0)
            mw_spf_rrset_add_str(out, mx.exchange, strlen(mx.exchange));
        break;
    case MW_DNS_PTR:
        if ((rc = mw_dns_name_decode(rr->data, rr->len, &off, name, &err)) == 0)
            mw_spf_rrset_add_str(out, name, strlen(name));
        break;
    default:
        rc = mw_err_set(&err, "unexpected type %d", a->qtype);
    }
    if (rc < 0)
        mw_log_info("spf: skipping a record of %s type %d: %s", a->qname, a->qtype, err.text);
    return rc;
}

static enum mw_spf_dns_rc
mw_spf_dns_lookup(void *ctx, const char *name, enum mw_spf_qtype type, struct mw_spf_rrset *out)
{
    struct mw_dns *dns = ctx;
    struct mw_dns_answer *a = NULL;
    struct mw_err err;
    enum mw_spf_dns_rc rc;
    int rrtype = mw_spf_dns_rrtype(type);

    if (dns == NULL || rrtype < 0)
        return MW_SPF_DNS_TEMP;
    if (mw_dns_name_check(name, &err) < 0) {
        mw_log_info("spf: cannot query \"%s\": %s", name, err.text);
        return MW_SPF_DNS_TEMP;
    }
    if (mw_dns_resolve(dns, name, rrtype, &a, &err) < 0) {
        mw_log_info("spf: lookup of %s type %d: %s", name, rrtype, err.text);
        return MW_SPF_DNS_TEMP;
    }
    switch (a->status) {
    case MW_DNS_OK:
        for (size_t i = 0; i < a->count; i++)
            mw_spf_dns_record(a, &a->rr[i], out);
        rc = out->nstr + out->nip > 0 ? MW_SPF_DNS_OK : MW_SPF_DNS_NODATA;
        break;
    case MW_DNS_NXDOMAIN:
        rc = MW_SPF_DNS_NXDOMAIN;
        break;
    case MW_DNS_NODATA:
        rc = MW_SPF_DNS_NODATA;
        break;
    default:
        mw_log_info("spf: lookup of %s type %d: %s%s%s", name, rrtype,
                    mw_dns_status_name(a->status), a->error ? ": " : "", a->error ? a->error : "");
        rc = MW_SPF_DNS_TEMP;
    }
    mw_dns_answer_free(&a);
    return rc;
}

void
mw_spf_dns_init(struct mw_spf_dns *d, struct mw_dns *dns)
{
    d->lookup = mw_spf_dns_lookup;
    d->ctx = dns;
}
