/*
 * mail.h - find the TLS report in a report mail (RFC 8460 section 5.3).
 *
 * mw_tlsrpt_mail_report() parses a whole message (header section and body,
 * as received) with GMime and copies out the decoded content of the first
 * part whose Content-Type is application/tlsrpt+gzip or
 * application/tlsrpt+json (the whole message when it is such a part
 * itself). It also copies the TLS-Report-Domain and TLS-Report-Submitter
 * fields when present, for the log.
 *
 * GMime must be initialised (g_mime_init, done by the plugin's init).
 * Reentrant; the caller owns *report (mw_buf) and the found strings.
 */
#ifndef MW_TLSRPT_MAIL_H
#define MW_TLSRPT_MAIL_H

#include <stddef.h>

#include "mw/buf.h"
#include "mw/err.h"

struct mw_tlsrpt_mail {
    struct mw_buf report; /* decoded part content */
    int gzipped;          /* MW_TLSRPT_GZIP or MW_TLSRPT_JSON */
    char *domain;         /* TLS-Report-Domain, or NULL */
    char *submitter;      /* TLS-Report-Submitter, or NULL */
};

/*
 * Fill *out (initialised here) from the message in msg/len: 0, or -1 when
 * the message has no report part (err says so). Release *out either way.
 */
int mw_tlsrpt_mail_report(const char *msg, size_t len, struct mw_tlsrpt_mail *out,
                          struct mw_err *err);
void mw_tlsrpt_mail_release(struct mw_tlsrpt_mail *mail);

void mw_tlsrpt_mail_init(void);
void mw_tlsrpt_mail_fini(void);

#endif
