/*
 * keytable.h - OpenDKIM's KeyTable and SigningTable formats, parsed and
 * looked up (pure functions: no files, no keys; the signer loads those).
 *
 * SYNOPSIS
 *   struct mw_dkim_keytable *kt;
 *   struct mw_dkim_signtable *st;
 *   mw_dkim_keytable_parse("keytable", text, len, &kt, &err);
 *   mw_dkim_signtable_parse("signingtable", text, len, regex, kt, &st, &err);
 *   n = mw_dkim_signtable_match(st, "alice", "example.com", idx, max);
 *
 * DESCRIPTION
 *   KeyTable, one key per line (opendkim.conf(5), KeyTable):
 *       NAME  DOMAIN:SELECTOR:KEYPATH
 *   DOMAIN "%" stands for the signing domain (the From domain). KEYPATH must
 *   be an absolute file name (OpenDKIM also takes the key itself inline; we
 *   do not: a key belongs in a file of mode 0600).
 *
 *   SigningTable, one rule per line: PATTERN NAME, NAME a KeyTable name.
 *   With regex set (the "refile:" form) PATTERN is a wildcard matched
 *   against "local@domain" of the From address, case-insensitively, "*"
 *   matching any run of characters; every matching line gives one signature
 *   (OpenDKIM's MultipleSignatures), in file order. Without it PATTERN is an
 *   exact key: the lines whose key is the whole address are used, or if
 *   there are none the lines whose key is the domain.
 *
 *   Blank lines and lines starting with "#" are skipped; a "#" after a blank
 *   starts a comment. Anything else malformed fails with "NAME:LINE: why":
 *   a line with too few or too many fields, an empty part, a duplicate
 *   KeyTable name, a SigningTable name the KeyTable lacks, a NUL byte, a
 *   line over 4096 bytes, a table over 100000 lines.
 *
 * MEMORY
 *   A parsed table owns its strings; free it with its _free function.
 *   The SigningTable keeps indexes into the KeyTable given to its parser,
 *   so the KeyTable must live as long as the SigningTable.
 */
#ifndef MW_DKIM_KEYTABLE_H
#define MW_DKIM_KEYTABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "mw/err.h"

#define MW_DKIM_TABLE_LINE_MAX 4096
#define MW_DKIM_TABLE_LINES_MAX 100000

struct mw_dkim_key {
    char *name;     /* the KeyTable name */
    char *domain;   /* d=, "%": the signing domain */
    char *selector; /* s= */
    char *path;     /* the private key file */
    unsigned long line;
};

struct mw_dkim_keytable {
    struct mw_dkim_key *v;
    size_t n;
};

struct mw_dkim_signtable;

int mw_dkim_keytable_parse(const char *name, const char *text, size_t len,
                           struct mw_dkim_keytable **out, struct mw_err *err);
void mw_dkim_keytable_free(struct mw_dkim_keytable **ktp);

int mw_dkim_signtable_parse(const char *name, const char *text, size_t len, bool regex,
                            const struct mw_dkim_keytable *kt, struct mw_dkim_signtable **out,
                            struct mw_err *err);
/*
 * The KeyTable indexes of the keys that sign mail from local@domain, in
 * table order, at most max of them (a key listed twice counts once).
 * Returns how many were written to idx.
 */
size_t mw_dkim_signtable_match(const struct mw_dkim_signtable *st, const char *local,
                               const char *domain, size_t *idx, size_t max);
size_t mw_dkim_signtable_count(const struct mw_dkim_signtable *st);
void mw_dkim_signtable_free(struct mw_dkim_signtable **stp);

/* The local part of the (single) address in a From value, "" if not found; malloc'd. */
char *mw_dkim_from_local(const char *value);

/* Case-insensitive wildcard match, "*" any run of bytes (bounded work). */
bool mw_dkim_wildcard(const char *pattern, const char *s);

#endif
