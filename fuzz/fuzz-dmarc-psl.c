/*
 * fuzz-dmarc-psl.c - libFuzzer target for plugins/dmarc/psl.c: the Public
 * Suffix List reader (rules, wildcards, exceptions, punycode of Unicode
 * rules) and the organizational-domain lookup on the rules it read.
 * Input: list text, then a NUL, then the domain to look up.
 * Build and run: see fuzz/README.md.
 */
// fuzz-sources: plugins/dmarc/psl.c
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc/psl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, '\0', size);
    size_t list = nul != NULL ? (size_t)(nul - data) : size;
    char domain[MW_DNS_NAME_MAX + 2], org[MW_DNS_NAME_MAX + 1];
    struct mw_err err;
    struct mw_psl *psl = mw_psl_parse((const char *)data, list, &err);
    size_t n;

    if (psl == NULL)
        return 0;
    n = nul != NULL ? size - list - 1 : 0;
    if (n > MW_DNS_NAME_MAX + 1)
        n = MW_DNS_NAME_MAX + 1;
    memcpy(domain, nul != NULL ? nul + 1 : data, n);
    domain[n] = '\0';
    if (mw_psl_org_domain(psl, domain, org) == 0) {
        /* The organizational domain is the name itself or one of its parents. */
        size_t dl = strlen(domain), ol = strlen(org);

        if (ol == 0 || ol > dl || strcmp(domain + dl - ol, org) != 0 ||
            (ol < dl && domain[dl - ol - 1] != '.'))
            abort();
    }
    mw_psl_free(&psl);
    return 0;
}
