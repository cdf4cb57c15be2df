/*
 * psl.h - organizational domains (RFC 7489 §3.2) from the Public Suffix List.
 *
 * SYNOPSIS
 *   psl = mw_psl_load("/usr/share/publicsuffix/public_suffix_list.dat", &err);
 *   psl = mw_psl_parse(text, len, &err);
 *   mw_psl_org_domain(psl, "mail.example.co.uk", org);   -> "example.co.uk"
 *   mw_psl_free(&psl);
 *
 * DESCRIPTION
 *   Reads the list in its published format (publicsuffix.org/list/: one
 *   rule per line, "//" comments, "*." wildcards, "!" exceptions, Unicode
 *   rules in UTF-8, which are stored as their punycode A-labels so that
 *   they match the names that travel in DNS). The organizational domain of
 *   a name is its public suffix plus one label, by the list's algorithm:
 *   the longest matching rule wins, an exception beats every other rule,
 *   and a name no rule matches falls under the implicit rule "*" (its last
 *   label is the suffix: "sub.example.test" has "example.test"). A name
 *   that is itself a public suffix is its own organizational domain.
 *
 *   libopendmarc has a PSL reader too; it does not apply the implicit "*"
 *   rule (an unlisted TLD gets no organizational domain at all) and gets
 *   wildcards under exceptions wrong (a.b.c.kawasaki.jp), hence this one.
 *
 * MEMORY, THREADS
 *   A loaded list is immutable: any number of threads may look up at once.
 */
#ifndef MW_DMARC_PSL_H
#define MW_DMARC_PSL_H

#include <stddef.h>

#include "mw/dns.h"
#include "mw/err.h"

struct mw_psl;

/* Read a list file; fails when it cannot be read or holds no rule. */
struct mw_psl *mw_psl_load(const char *path, struct mw_err *err);
/* The same from text in memory (tests, fuzzing). Lines that are no valid rule are skipped. */
struct mw_psl *mw_psl_parse(const char *text, size_t len, struct mw_err *err);
void mw_psl_free(struct mw_psl **pp);
/* How many rules were read. */
size_t mw_psl_count(const struct mw_psl *psl);

/*
 * The organizational domain of domain (lowercase ASCII, labels of 1..63
 * bytes, at most MW_DNS_NAME_MAX bytes, no final dot) into org. Returns 0,
 * or -1 when domain is not such a name.
 */
int mw_psl_org_domain(const struct mw_psl *psl, const char *domain, char org[MW_DNS_NAME_MAX + 1]);

#endif
