/*
 * policy.h - the pgp plugin's per-recipient table ([pgp] policy_table).
 *
 * One rule per line: "KEY MODE", KEY an address (user@domain), a domain
 * (exact) or ".domain" (every subdomain, not the domain itself), MODE one
 * of never, if-key, always. Blank lines and "#" comments are skipped. Keys
 * are matched case-insensitively; an address rule beats a domain rule,
 * which beats the longest matching ".domain" rule.
 */
#ifndef MW_PGP_POLICY_H
#define MW_PGP_POLICY_H

#include <stddef.h>

#include "mw/err.h"

enum mw_pgp_mode {
    MW_PGP_NEVER = 0,
    MW_PGP_IF_KEY,
    MW_PGP_ALWAYS,
};

struct mw_pgp_table;

/* "never" "if-key" "always" -> mode; -1 if unknown. */
int mw_pgp_mode_parse(const char *word, enum mw_pgp_mode *mode);
const char *mw_pgp_mode_name(enum mw_pgp_mode mode);

/* Parse text (name for messages); on error err says "NAME:LINE: why". */
int mw_pgp_table_parse(const char *name, const char *text, size_t len, struct mw_pgp_table **t,
                       struct mw_err *err);
/* Read and parse a file (at most 16 MiB). */
int mw_pgp_table_load(const char *path, struct mw_pgp_table **t, struct mw_err *err);
/* The mode for addr, or -1 when no rule matches. t may be NULL (no table). */
int mw_pgp_table_lookup(const struct mw_pgp_table *t, const char *addr);
size_t mw_pgp_table_size(const struct mw_pgp_table *t);
void mw_pgp_table_free(struct mw_pgp_table **t);

#endif
