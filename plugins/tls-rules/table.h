/*
 * table.h - the tls-rules table ("DOMAIN LEVEL" per line) and domain lists.
 *
 * SYNOPSIS
 *   mw_tlsrules_parse(name, buf, len, &t, err)   bytes in, table or "NAME:LINE: why" out
 *   mw_tlsrules_load(path, &t, err)              read a file and parse it
 *   mw_tlsrules_lookup(t, domain, is_parent)     the policy text, or NULL
 *   mw_tlsrules_find(t, domain, is_parent, &ovr) the same, and whether the rule overrides
 *   mw_tlsrules_domains_parse(words, &l, err)    the require_tls_from list
 *   mw_tlsrules_domains_match(l, domain)         the entry covering domain, or NULL
 *
 * Table format: one rule per line, "DOMAIN [override] LEVEL [NAME=VALUE ...]",
 * where "override" marks a rule that beats published policies (DANE,
 * MTA-STS; tls-rules.c says how), LEVEL is a Postfix TLS security level
 * (none may encrypt dane dane-only fingerprint verify secure) and the
 * attributes are those Postfix accepts in
 * smtp_tls_policy_maps (ciphers exclude match protocols tafile
 * connection_reuse servername enable_rpk). "#" starts a comment only as the
 * first non-blank character of a line, as in Postfix tables; blank lines are
 * ignored; a line starting with a blank is refused (Postfix would read it as a
 * continuation, which we do not support). DOMAIN "example.net" matches only
 * itself; ".example.net" matches every subdomain (not example.net itself).
 * An exact entry beats a parent one; among parent entries the longest wins.
 * Unknown levels or attributes, bad domains and duplicate domains are errors.
 *
 * The parser is a pure function over a buffer (unit tests, fuzz target).
 * Tables and lists are immutable once built: any thread may read them.
 * The caller owns what the parse functions return (free with the free functions).
 */
#ifndef MW_TLSRULES_TABLE_H
#define MW_TLSRULES_TABLE_H

#include <stddef.h>

#include "mw/err.h"

/* Longest table line and largest table file we accept. */
#define MW_TLSRULES_LINE_MAX 4096
#define MW_TLSRULES_FILE_MAX (64UL * 1024 * 1024)

struct mw_tlsrules;

/* Parse buf[0..len); name is used in "NAME:LINE: ..." messages. An empty table is fine. */
int mw_tlsrules_parse(const char *name, const char *buf, size_t len, struct mw_tlsrules **out,
                      struct mw_err *err);
/* Read path (a regular file, at most MW_TLSRULES_FILE_MAX bytes) and parse it. */
int mw_tlsrules_load(const char *path, struct mw_tlsrules **out, struct mw_err *err);
/* Number of rules. */
size_t mw_tlsrules_count(const struct mw_tlsrules *t);
/*
 * The policy ("encrypt", "secure match=nexthop") for a canonical domain
 * (lower case, no trailing dot), or NULL. With is_parent the question is
 * Postfix's ".domain" key: only parent entries (".domain" or shorter) answer.
 */
const char *mw_tlsrules_lookup(const struct mw_tlsrules *t, const char *domain, int is_parent);
/* mw_tlsrules_lookup(), and *override set when the matching rule is marked "override". */
const char *mw_tlsrules_find(const struct mw_tlsrules *t, const char *domain, int is_parent,
                             int *override);
/* Number of rules marked "override". */
size_t mw_tlsrules_overrides(const struct mw_tlsrules *t);
void mw_tlsrules_free(struct mw_tlsrules **tp);

struct mw_tlsrules_domains;

/* Build a list from words ("example.org", ".example.org"); NULL-terminated vector. */
int mw_tlsrules_domains_parse(char *const *words, struct mw_tlsrules_domains **out,
                              struct mw_err *err);
/* The list entry (as written, canonical) covering the canonical domain, or NULL. */
const char *mw_tlsrules_domains_match(const struct mw_tlsrules_domains *l, const char *domain);
size_t mw_tlsrules_domains_count(const struct mw_tlsrules_domains *l);
void mw_tlsrules_domains_free(struct mw_tlsrules_domains **lp);

#endif
