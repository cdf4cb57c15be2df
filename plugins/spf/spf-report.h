/*
 * spf-report.h - the text the spf plugin writes into a message and an SMTP
 * reply: the Received-SPF header (RFC 7208 §9.1), property values of
 * Authentication-Results (RFC 8601) and reply text.
 *
 * SYNOPSIS
 *   value = mw_spf_received(&report);        Received-SPF header value
 *   mw_spf_pvalue(&buf, address_or_domain);  an RFC 8601 property value
 *   mw_spf_text(&buf, text, max);            printable ASCII for a reply
 *   mw_spf_domain_ok(domain)                 a checkable domain (§4.3)?
 *
 * DESCRIPTION
 *   Everything shown comes from the SMTP client (MAIL FROM, HELO) or from a
 *   sender's DNS (the deciding mechanism, problems), so every string is
 *   escaped for the syntax it lands in: quoted-pair in comments and
 *   quoted-strings, quoting where a bare value would not parse, control
 *   characters replaced by '?'. A string longer than MW_SPF_SHOW_MAX bytes is
 *   shown cut, ending in "...": display only, the check itself used the
 *   whole value (and no valid SMTP path is that long).
 *
 * MEMORY
 *   mw_spf_received() returns a string the caller frees with mw_free().
 *   The others append to a caller's buffer. Pure functions; thread-safe.
 */
#ifndef MW_SPF_REPORT_H
#define MW_SPF_REPORT_H

#include <stdbool.h>

#include "mw/buf.h"
#include "spf-eval.h"

/* Longest piece of untrusted text shown (RFC 5321's limit of a path). */
#define MW_SPF_SHOW_MAX 256

/* One checked identity, as Received-SPF reports it. */
struct mw_spf_report {
    enum mw_spf_result result;
    const char *identity;      /* "mailfrom" or "helo" */
    const char *client_ip;     /* the client address, as text */
    const char *envelope_from; /* MAIL FROM as sent ("" for the null sender) */
    const char *sender;        /* the identity checked: MAIL FROM or postmaster@HELO */
    const char *helo;          /* HELO name or NULL */
    const char *receiver;      /* our name (authserv_id or host name) */
    const char *mechanism;     /* the deciding term, or NULL */
    const char *problem;       /* why temperror/permerror/none, or NULL */
};

/*
 * "RESULT (COMMENT) client-ip=...; envelope-from="..."; helo=...;
 * [mechanism=...; | problem=...;] receiver=...; identity=..." folded
 * before a blank ("\n ") to lines of at most 78 characters where blanks
 * allow it. Free with mw_free().
 */
char *mw_spf_received(const struct mw_spf_report *r);

/*
 * Append s as an RFC 8601 property value: bare when it is a domain name or
 * a dot-atom local part "@" a domain name, else as a quoted-string.
 */
void mw_spf_pvalue(struct mw_buf *b, const char *s);

/* Append s with every byte outside printable ASCII made '?', at most max
 * bytes of it (longer: cut, "..." appended). */
void mw_spf_text(struct mw_buf *b, const char *s, size_t max);

/*
 * Is d a domain check_host() can check (RFC 7208 §4.3)? At most 253 bytes
 * (a final dot aside), two or more labels of 1..63 letters, digits, '-' or
 * '_', the last one not all digits. Anything else (an address literal, a
 * single label, UTF-8) is result "none" without a lookup.
 */
bool mw_spf_domain_ok(const char *d);

#endif
