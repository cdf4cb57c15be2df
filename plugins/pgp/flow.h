/*
 * flow.h - what the pgp plugin does with one collected outbound message at
 * end of message: classify the recipients, encrypt, sign, re-inject the
 * clear copy, record the changes (see pgp.c for the behaviour).
 */
#ifndef MW_PGP_FLOW_H
#define MW_PGP_FLOW_H

#include <stddef.h>

#include "mw/buf.h"
#include "mw/msg.h"
#include "mw/spool.h"
#include "password.h"
#include "policy.h"

struct mw_pgp_settings {
    char *home, *reinject, *outer_subject;
    char *passphrase;  /* "" without a passphrase file; wiped on free */
    char *explanation; /* password_explanation; NULL: the built-in text */
    enum mw_pgp_mode encrypt, sign;
    struct mw_pgp_table *table; /* NULL: none */
    char bcc;                   /* bcc_privacy: 'p'er-recipient, 'h'idden-keyids, 'o'ff */
    int reject_missing;         /* missing_key_action = reject */
    size_t max_size;
    char too_big;        /* 't'empfail, 'r'eject, 'p'ass */
    char *spool_dir;     /* "": collect in memory only */
    size_t memory_limit; /* bytes of a message body kept in memory before spool_dir */
};

/* One header field as the MTA gave it (value: no leading blank, folds as "\n"). */
struct mw_pgp_hdr {
    char *name, *value;
};

struct mw_pgp_msg {
    struct mw_pgp_hdr *hdrs;
    size_t nhdrs, cap;
    struct mw_spool body; /* CRLF lines as the MTA sent them; on disk past memory_limit */
    size_t size;          /* bytes of headers and body so far */
    int too_big;          /* over max_size: body dropped */
    int reinjected;       /* carries our loop guard */
    int outbound;         /* MW_OUTBOUND when the message began: only then collected */
    /* Encrypt-Password (pwflow.c): never in hdrs, the value only when honoured. */
    size_t npw;                             /* fields seen */
    int pw_honour;                          /* outbound and authenticated */
    int pw_bad;                             /* the (first) value is unusable */
    char password[MW_PGP_PASSWORD_MAX + 1]; /* wiped on free and after use */
};

/* A fresh loop-guard token for this process (once, in init). */
void mw_pgp_guard_init(void);
void mw_pgp_msg_header(struct mw_pgp_msg *pm, const struct mw_pgp_settings *s, const char *name,
                       const char *value);
void mw_pgp_msg_free(struct mw_pgp_msg **pmp);
/*
 * The whole collected message (header fields, empty line, body), CRLF, into
 * raw (in memory: GMime and GnuPG get it from there). -1 and err when the
 * body could not be spooled or read back (the caller tempfails).
 */
int mw_pgp_msg_raw(const struct mw_pgp_msg *pm, struct mw_buf *raw, struct mw_err *err);
/* 451 4.3.0: the message could not be collected or read back (err says why, logged). */
enum mw_verdict mw_pgp_spool_fail(struct mw_msg *m, const char *why);
/* Record the new top-level header: Content-* replaced by ctype, Subject (unless NULL) replaced. */
void mw_pgp_apply_headers(struct mw_msg *m, const struct mw_pgp_msg *pm, const char *ctype,
                          const char *subject);
enum mw_verdict mw_pgp_flow(const struct mw_pgp_settings *s, struct mw_pgp_msg *pm,
                            struct mw_msg *m);

/* pwflow.c: an Encrypt-Password field of the message (every instance). */
void mw_pgp_pw_header(struct mw_pgp_msg *pm, struct mw_msg *m, const char *value);
/*
 * At end of message, when pm->npw > 0: delete the fields; when honoured,
 * encrypt the message with the password (*done = 1, the verdict is final),
 * else log that they were ignored (*done = 0: go on as without them).
 */
enum mw_verdict mw_pgp_pw_eom(const struct mw_pgp_settings *s, struct mw_pgp_msg *pm,
                              struct mw_msg *m, int *done);

#endif
