/*
 * reinject.h - hand a clear copy of a message to the MTA again (libcurl SMTP).
 *
 * For a message with mixed recipients the pgp plugin keeps the key holders
 * in the milter transaction (they get ciphertext) and sends one copy for
 * the others to [pgp] reinject; with bcc_privacy = per-recipient it also
 * keeps only the first key holder and sends each other one their own
 * ciphertext the same way. The target is a Postfix smtpd without milters (e.g.
 * 127.0.0.1:10026 in master.cf with -o smtpd_milters= ). The copy carries
 * the loop guard header MW_PGP_GUARD so that, should the port still run our
 * milter, it is not handled twice.
 */
#ifndef MW_PGP_REINJECT_H
#define MW_PGP_REINJECT_H

#include <stddef.h>

#include "mw/err.h"

#define MW_PGP_GUARD "X-Mailward-PGP-Reinjected"

int mw_pgp_reinject_init(struct mw_err *err);
void mw_pgp_reinject_fini(void);

/*
 * Send msg (CRLF lines) from mail_from to the n rcpts through url
 * (smtp://host:port). The caller sends its copies one by one and tempfails
 * the original message at the first failure: copies sent before it are
 * sent again when the client retries (a duplicate rather than a loss).
 */
int mw_pgp_reinject(const char *url, const char *mail_from, const char *const *rcpts, size_t n,
                    const char *msg, size_t len, struct mw_err *err);

#endif
