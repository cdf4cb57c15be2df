/*
 * policy.c - a DMARC record and the verdict on one message (see policy.h).
 */
#include "config.h"

#include <string.h>

#include <opendmarc/dmarc.h>

#include "dmarc/policy.h"

const char *
mw_dmarc_p_name(enum mw_dmarc_p p)
{
    switch (p) {
    case MW_DMARC_P_REJECT:
        return "reject";
    case MW_DMARC_P_QUARANTINE:
        return "quarantine";
    case MW_DMARC_P_NONE:
        break;
    }
    return "none";
}

static enum mw_dmarc_p
mw_dmarc_p_of(int c)
{
    return c == DMARC_RECORD_P_REJECT       ? MW_DMARC_P_REJECT
           : c == DMARC_RECORD_P_QUARANTINE ? MW_DMARC_P_QUARANTINE
                                            : MW_DMARC_P_NONE;
}

static const char *
mw_dmarc_parse_error(int st)
{
    switch (st) {
    case DMARC_PARSE_ERROR_BAD_VERSION:
        return "bad v= tag";
    case DMARC_PARSE_ERROR_BAD_VALUE:
        return "bad tag value";
    case DMARC_PARSE_ERROR_NO_REQUIRED_P:
        return "no p= tag";
    case DMARC_PARSE_ERROR_EMPTY:
        return "empty record";
    default:
        return "unparsable record";
    }
}

int
mw_dmarc_record_parse(const char *text, const char *from_domain, const char *org_domain,
                      struct mw_dmarc_record *r, struct mw_err *err)
{
    DMARC_POLICY_T *pctx;
    int st, p = 0, sp = 0, pct = 100, adkim = 0, aspf = 0;

    memset(r, 0, sizeof(*r));
    if (strlen(text) > MW_DMARC_RECORD_MAX)
        return mw_err_set(err, "invalid DMARC record: longer than %d bytes", MW_DMARC_RECORD_MAX);
    /* The client address is for libopendmarc's reports, which we do not make. */
    pctx = opendmarc_policy_connect_init((u_char *)"", 0);
    if (pctx == NULL)
        return mw_err_set(err, "libopendmarc: out of memory");
    st = opendmarc_policy_store_dmarc(pctx, (u_char *)text, (u_char *)from_domain,
                                      (u_char *)org_domain);
    if (st == DMARC_PARSE_OKAY) {
        opendmarc_policy_fetch_p(pctx, &p);
        opendmarc_policy_fetch_sp(pctx, &sp);
        opendmarc_policy_fetch_pct(pctx, &pct);
        opendmarc_policy_fetch_adkim(pctx, &adkim);
        opendmarc_policy_fetch_aspf(pctx, &aspf);
    }
    opendmarc_policy_connect_shutdown(pctx);
    if (st != DMARC_PARSE_OKAY)
        return mw_err_set(err, "invalid DMARC record: %s", mw_dmarc_parse_error(st));
    r->p = mw_dmarc_p_of(p);
    r->has_sp = sp != DMARC_RECORD_P_UNSPECIFIED;
    r->sp = r->has_sp ? mw_dmarc_p_of(sp) : r->p;
    r->pct = pct < 0 ? 0 : pct > 100 ? 100 : pct;
    r->adkim_strict = adkim == DMARC_RECORD_A_STRICT;
    r->aspf_strict = aspf == DMARC_RECORD_A_STRICT;
    return 0;
}

/* id lowercased into out if it is a host name (see psl.h), else -1. */
static int
mw_dmarc_lower(const char *id, char out[MW_DNS_NAME_MAX + 1])
{
    size_t n = id != NULL ? strlen(id) : 0;

    if (n == 0 || n > MW_DNS_NAME_MAX)
        return -1;
    for (size_t i = 0; i <= n; i++)
        out[i] = id[i] >= 'A' && id[i] <= 'Z' ? (char)(id[i] - 'A' + 'a') : id[i];
    return 0;
}

bool
mw_dmarc_aligned(const struct mw_psl *psl, const char *from, const char *id, bool strict)
{
    char d[MW_DNS_NAME_MAX + 1], org_d[MW_DNS_NAME_MAX + 1], org_f[MW_DNS_NAME_MAX + 1];

    if (mw_dmarc_lower(id, d) < 0)
        return false;
    if (strcmp(d, from) == 0)
        return true;
    if (strict)
        return false;
    if (mw_psl_org_domain(psl, d, org_d) < 0 || mw_psl_org_domain(psl, from, org_f) < 0)
        return false;
    return strcmp(org_d, org_f) == 0;
}

/* Does this SPF result speak for the RFC5321.MailFrom identity (§3.1.2)? */
static bool
mw_dmarc_spf_counts(const struct mw_auth_result *r, bool bounce)
{
    if (r->scope == NULL || strcmp(r->scope, "mailfrom") == 0)
        return true;
    return bounce && strcmp(r->scope, "helo") == 0;
}

void
mw_dmarc_evaluate(const struct mw_psl *psl, const struct mw_dmarc_input *in,
                  struct mw_dmarc_verdict *v)
{
    const struct mw_dmarc_record *rec = in->rec;
    bool temp = false;

    memset(v, 0, sizeof(*v));
    v->used_sp = in->fallback && rec->has_sp;
    v->policy = v->used_sp ? rec->sp : rec->p;
    for (size_t i = 0; i < in->nresults; i++) {
        const struct mw_auth_result *r = in->results[i];
        bool dkim = strcmp(r->method, "dkim") == 0, pass = strcmp(r->result, "pass") == 0;

        if (!dkim && (strcmp(r->method, "spf") != 0 || !mw_dmarc_spf_counts(r, in->bounce)))
            continue;
        if (!mw_dmarc_aligned(psl, in->from, r->domain,
                              dkim ? rec->adkim_strict : rec->aspf_strict))
            continue;
        if (pass && dkim)
            v->dkim_aligned = true;
        else if (pass)
            v->spf_aligned = true;
        else if (strcmp(r->result, "temperror") == 0)
            temp = true;
    }
    if (v->dkim_aligned || v->spf_aligned) {
        v->result = "pass";
        return;
    }
    v->result = temp ? "temperror" : "fail";
    if (temp)
        return;
    v->disposition = v->policy;
    if (v->policy != MW_DMARC_P_NONE && in->roll >= (unsigned int)rec->pct)
        v->disposition = v->policy == MW_DMARC_P_REJECT ? MW_DMARC_P_QUARANTINE : MW_DMARC_P_NONE;
}
