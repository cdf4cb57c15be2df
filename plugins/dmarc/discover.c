/*
 * discover.c - DMARC policy discovery through lib/dns (see discover.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "dmarc/discover.h"
#include "dmarc/policy.h"
#include "mw/alloc.h"
#include "mw/buf.h"
#include "mw/log.h"

bool
mw_dmarc_record_is_v1(const char *text, size_t len)
{
    size_t i = 0;

    /* RFC 7489 §6.4: dmarc-version = "v" *WSP "=" *WSP %x44.4d.41.52.43.31 */
    if (len == 0 || (text[0] != 'v' && text[0] != 'V'))
        return false;
    for (i = 1; i < len && (text[i] == ' ' || text[i] == '\t'); i++)
        ;
    if (i == len || text[i++] != '=')
        return false;
    while (i < len && (text[i] == ' ' || text[i] == '\t'))
        i++;
    if (len - i < 6 || memcmp(text + i, "DMARC1", 6) != 0)
        return false;
    i += 6;
    return i == len || text[i] == ';' || text[i] == ' ' || text[i] == '\t';
}

/* The DMARC record of one answer into l; returns l->status. */
static enum mw_dmarc_found
mw_dmarc_pick(const struct mw_dns_answer *a, struct mw_dmarc_lookup *l)
{
    struct mw_buf txt, found;
    size_t n = 0;
    struct mw_err err;

    mw_buf_init(&txt);
    mw_buf_init(&found);
    for (size_t i = 0; i < a->count; i++) {
        mw_buf_reset(&txt);
        if (mw_dns_txt_decode(a->rr[i].data, a->rr[i].len, &txt, &err) < 0 ||
            !mw_dmarc_record_is_v1(txt.data, txt.len))
            continue;
        if (n++ == 0)
            mw_buf_append(&found, txt.data, txt.len);
    }
    mw_buf_release(&txt);
    l->status = MW_DMARC_INVALID;
    if (n == 0)
        l->status = MW_DMARC_NORECORD;
    else if (n > 1)
        mw_err_set(&l->why, "%zu DMARC records at %s", n, a->qname);
    else if (found.len > MW_DMARC_RECORD_MAX || strlen(found.data) != found.len)
        mw_err_set(&l->why, "unusable DMARC record at %s", a->qname);
    else
        l->status = MW_DMARC_FOUND;
    if (l->status == MW_DMARC_FOUND)
        l->record = mw_buf_steal(&found);
    mw_buf_release(&found);
    return l->status;
}

/* Look up _dmarc.domain; returns l->status. */
static enum mw_dmarc_found
mw_dmarc_query(struct mw_dns *dns, const char *domain, struct mw_dmarc_lookup *l)
{
    char name[MW_DNS_NAME_MAX + 16];
    struct mw_dns_answer *a = NULL;
    struct mw_err err;

    snprintf(name, sizeof(name), "_dmarc.%s", domain);
    if (strlen(name) > MW_DNS_NAME_MAX)
        return l->status = MW_DMARC_NORECORD; /* no such name can exist */
    l->status = MW_DMARC_TEMPFAIL;
    if (dns == NULL) {
        mw_err_set(&l->why, "no resolver for %s", name);
        return l->status;
    }
    if (mw_dns_resolve(dns, name, MW_DNS_TXT, &a, &err) < 0) {
        mw_err_set(&l->why, "lookup of %s failed", name);
        mw_log_info("dmarc: %s: %s", name, err.text);
        return l->status;
    }
    switch (a->status) {
    case MW_DNS_OK:
        mw_dmarc_pick(a, l);
        break;
    case MW_DNS_NXDOMAIN:
    case MW_DNS_NODATA:
        l->status = MW_DMARC_NORECORD;
        break;
    case MW_DNS_TIMEOUT:
    case MW_DNS_TEMPFAIL:
        mw_err_set(&l->why, "DNS %s for %s", a->status == MW_DNS_TIMEOUT ? "timeout" : "failure",
                   name);
        mw_log_info("dmarc: %s: %s", name, a->error != NULL ? a->error : "temporary failure");
        break;
    }
    mw_dns_answer_free(&a);
    return l->status;
}

void
mw_dmarc_discover(struct mw_dns *dns, const char *from, const char *org, struct mw_dmarc_lookup *l)
{
    memset(l, 0, sizeof(*l));
    if (mw_dmarc_query(dns, from, l) != MW_DMARC_NORECORD || strcmp(from, org) == 0)
        return;
    l->fallback = true;
    mw_dmarc_query(dns, org, l);
}

void
mw_dmarc_lookup_release(struct mw_dmarc_lookup *l)
{
    mw_free(&l->record);
}
