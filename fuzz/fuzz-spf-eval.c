/*
 * fuzz-spf-eval.c - libFuzzer target for the whole native SPF evaluator
 * (check_host() of plugins/spf/spf-eval.c) with DNS answers taken from
 * the input. The input is text, one item a line:
 *   line 1      client address, MAIL FROM, HELO (separated by spaces)
 *   later       NAME TYPE VALUE: TYPE is TXT, A, AAAA, MX, PTR, or
 *               TIMEOUT (the name fails temporarily for every type)
 * A lookup answers the lines of that name and type in order (NXDOMAIN if
 * the name has no line at all, NODATA otherwise). Checked: the result is
 * one of the seven, an explanation only comes with fail, a problem always
 * comes with none, temperror and permerror, the lookups stay bounded.
 * Build and run: see fuzz/README.md.
 */
// fuzz-sources: plugins/spf/spf-eval.c plugins/spf/spf-mech.c plugins/spf/spf-names.c
// fuzz-sources: plugins/spf/spf-macro.c plugins/spf/spf-record.c
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mw/alloc.h"
#include "spf/spf-eval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct zone {
    char *text; /* the input, NUL-terminated */
    size_t lookups;
};

static const char *const qtypes[] = {"TXT", "A", "AAAA", "MX", "PTR"};

/* Does line (up to its newline) start with "name type "? Sets *value. */
static int
line_matches(const char *line, const char *name, const char *type, const char **value)
{
    size_t n = strlen(name), t = type ? strlen(type) : 0;

    if (strncasecmp(line, name, n) != 0 || line[n] != ' ')
        return 0;
    if (type && (strncmp(line + n + 1, type, t) != 0 || line[n + 1 + t] != ' '))
        return 0;
    *value = line + n + 1 + (type ? t + 1 : 0);
    return 1;
}

static enum mw_spf_dns_rc
lookup(void *ctx, const char *name, enum mw_spf_qtype type, struct mw_spf_rrset *out)
{
    struct zone *z = ctx;
    const char *line = strchr(z->text, '\n'), *v;
    int seen = 0;

    z->lookups++;
    for (; line; line = strchr(line, '\n')) {
        size_t len;
        line++;
        len = strcspn(line, "\n");
        if (line_matches(line, name, "TIMEOUT", &v))
            return MW_SPF_DNS_TEMP;
        if (line_matches(line, name, NULL, &v))
            seen = 1;
        if (!line_matches(line, name, qtypes[type], &v))
            continue;
        if (type == MW_SPF_A || type == MW_SPF_AAAA) {
            char addr[64];
            struct mw_spf_ip ip;
            size_t alen = (size_t)(line + len - v);
            if (alen < sizeof(addr)) {
                memcpy(addr, v, alen);
                addr[alen] = '\0';
                if (mw_spf_ip_parse(addr, &ip) == 0)
                    mw_spf_rrset_add_ip(out, &ip);
            }
        } else {
            mw_spf_rrset_add_str(out, v, (size_t)(line + len - v));
        }
    }
    if (out->nstr || out->nip)
        return MW_SPF_DNS_OK;
    return seen ? MW_SPF_DNS_NODATA : MW_SPF_DNS_NXDOMAIN;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zone z = {mw_strndup((const char *)data, size), 0};
    struct mw_spf_dns dns = {lookup, &z};
    char *first = mw_strndup(z.text, strcspn(z.text, "\n"));
    char *sender = strchr(first, ' '), *helo = NULL, *at;
    struct mw_spf_verdict v;
    struct mw_spf_ip ip;
    enum mw_spf_result r;

    if (sender) {
        *sender++ = '\0';
        helo = strchr(sender, ' ');
        if (helo)
            *helo++ = '\0';
    }
    if (mw_spf_ip_parse(first, &ip) == 0) {
        at = sender ? strrchr(sender, '@') : NULL;
        mw_spf_check_host(&dns, &ip, at ? at + 1 : (helo ? helo : ""), sender, helo, NULL, &v);
        r = v.result;
        if (r != MW_SPF_NONE && r != MW_SPF_NEUTRAL && r != MW_SPF_PASS && r != MW_SPF_FAIL &&
            r != MW_SPF_SOFTFAIL && r != MW_SPF_TEMPERROR && r != MW_SPF_PERMERROR)
            abort();
        if (v.explanation && r != MW_SPF_FAIL)
            abort();
        if (!v.problem && (r == MW_SPF_NONE || r == MW_SPF_TEMPERROR || r == MW_SPF_PERMERROR))
            abort();
        /* 10 terms of at most 1 + 10 lookups, the PTR names, the record, exp. */
        if (z.lookups > 200)
            abort();
        mw_spf_verdict_release(&v);
    }
    mw_free(&first);
    mw_free(&z.text);
    return 0;
}
