/*
 * mw/msg.h - what a milter plugin sees of an SMTP connection and message.
 *
 * One struct mw_msg per SMTP connection, reused for each message on it;
 * per-message fields are reset after each message. Strings returned stay
 * valid until the message ends. Changes to the message are recorded here
 * and applied by the host at end of message, in the order recorded, after
 * every plugin's eom hook has run; the host then writes one
 * Authentication-Results header (entries from mw_msg_ar_add(), our
 * authserv_id) and one syslog line (entries from mw_msg_log_add()).
 *
 * Not thread-safe: a message belongs to its connection's thread.
 */
#ifndef MW_MSG_H
#define MW_MSG_H

#include <stddef.h>

#include "mw/spool.h"

enum mw_verdict {
    MW_CONTINUE = 0, /* no objection; go on */
    MW_ACCEPT,       /* accept, skip the remaining checks of this message */
    MW_REJECT,       /* 5xx, reason from mw_msg_set_reply() */
    MW_TEMPFAIL,     /* 4xx: the MTA keeps the message and retries */
    MW_DISCARD,      /* accept and drop (only on explicit admin policy) */
};

enum mw_direction {
    MW_INBOUND,
    MW_OUTBOUND, /* client in internal_hosts or authenticated with SMTP AUTH */
};

struct mw_msg;

/* Connection: client address ("" when unknown), name, HELO, AUTH user (NULL if none). */
const char *mw_msg_client_addr(const struct mw_msg *m);
const char *mw_msg_client_name(const struct mw_msg *m);
const char *mw_msg_helo(const struct mw_msg *m);
const char *mw_msg_auth_user(const struct mw_msg *m);
enum mw_direction mw_msg_direction(const struct mw_msg *m);
/* Any macro the MTA sent ("{tls_version}", "i", ...), NULL if absent. */
const char *mw_msg_macro(const struct mw_msg *m, const char *name);

/* Envelope of the current message. Queue id is "NOQUEUE" until the MTA tells it. */
const char *mw_msg_queue_id(const struct mw_msg *m);
const char *mw_msg_mail_from(const struct mw_msg *m); /* without <>; "" for bounces */
size_t mw_msg_rcpt_count(const struct mw_msg *m);
const char *mw_msg_rcpt(const struct mw_msg *m, size_t i);

/* The calling plugin's per-message slot (starts NULL; free it in the done hook). */
void **mw_msg_data(struct mw_msg *m);

/* Recorded changes, applied at end of message. Header index counts from 1 per name. */
void mw_msg_header_add(struct mw_msg *m, const char *name, const char *value);
void mw_msg_header_insert(struct mw_msg *m, size_t pos, const char *name, const char *value);
void mw_msg_header_change(struct mw_msg *m, const char *name, size_t index, const char *value);
void mw_msg_header_delete(struct mw_msg *m, const char *name, size_t index);
/*
 * Replace the whole body (everything after the header section) at end of
 * message; lines should end in CRLF. A later call replaces an earlier one.
 * mw_msg_body_replace() copies data into memory; mw_msg_body_replace_spool()
 * takes over what *s holds (its memory or its temp file, see mw/spool.h) and
 * leaves *s empty, so a large new body never has to be in memory whole.
 * mw_msg_body_replacement() returns the replacement so far (NULL: the body
 * is unchanged), so a plugin listed later (dkim signing after pgp) sees the
 * final body; read it with mw_spool_read() (the host sends it in chunks).
 */
void mw_msg_body_replace(struct mw_msg *m, const void *data, size_t len);
void mw_msg_body_replace_spool(struct mw_msg *m, struct mw_spool *s);
const struct mw_spool *mw_msg_body_replacement(const struct mw_msg *m);
/*
 * The header section as it will leave, for a plugin listed after those that
 * change it (dkim signing after pgp), read in its eom hook: the fields the
 * MTA passed, in order, with every header change recorded so far applied
 * the way Postfix's cleanup applies them at eom (insert: position 0 and 1
 * both above the first field, as Postfix's own Received field counts as
 * position 1; change/delete: the index-th field of that name, index 0 as 1,
 * a change of a missing field appends it, a change to "" deletes, a
 * missing deletion is nothing).
 * Names and values are as the host gives them (value without the blank
 * after the colon, folds as line breaks followed by a blank); Postfix
 * writes each field back as "Name: value". Changes the host itself makes
 * after the plugins (its Authentication-Results) are not included. The body
 * as it will leave is mw_msg_body_replacement(), or when NULL the body
 * streamed. mw_msg_final_header() returns 0, or -1 when i is past the end.
 * A header section over 4 MiB is not kept: the count is 0 (unknown).
 */
size_t mw_msg_final_header_count(struct mw_msg *m);
int mw_msg_final_header(struct mw_msg *m, size_t i, const char **name, const char **value);
/* Remove or add an envelope recipient at end of message (without <>). */
void mw_msg_rcpt_delete(struct mw_msg *m, const char *rcpt);
void mw_msg_rcpt_add(struct mw_msg *m, const char *rcpt);
/* One "method=result prop=value ..." entry for our Authentication-Results header. */
void mw_msg_ar_add(struct mw_msg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One "name=value" item for this message's syslog line. */
void mw_msg_log_add(struct mw_msg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Structured verdicts that later plugins of the same message read: DMARC
 * reads the SPF and DKIM results, so list the plugins as "spf dkim dmarc".
 * Strings are copied; results are in the order added.
 */
struct mw_auth_result {
    const char *method;    /* "spf", "dkim", ... */
    const char *result;    /* RFC 8601 word: pass fail softfail neutral none temperror permerror */
    const char *domain;    /* spf: domain of the checked identity; dkim: d= */
    const char *scope;     /* spf: "mailfrom" or "helo"; else NULL */
    const char *selector;  /* dkim: s=; else NULL */
    const char *algorithm; /* dkim: a=; else NULL */
};
void mw_msg_auth_add(struct mw_msg *m, const struct mw_auth_result *r);
size_t mw_msg_auth_count(const struct mw_msg *m);
const struct mw_auth_result *mw_msg_auth(const struct mw_msg *m, size_t i);

/* Ask the MTA to hold the message (Postfix: the hold queue), reason logged; applied at eom. */
void mw_msg_quarantine(struct mw_msg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* SMTP reply for MW_REJECT / MW_TEMPFAIL: rcode "550", xcode "5.7.1", text. */
void mw_msg_set_reply(struct mw_msg *m, const char *rcode, const char *xcode, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
