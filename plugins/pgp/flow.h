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
#include "policy.h"

struct mw_pgp_settings {
    char *home, *reinject, *outer_subject;
    char *passphrase; /* "" without a passphrase file; wiped on free */
    enum mw_pgp_mode encrypt, sign;
    struct mw_pgp_table *table; /* NULL: none */
    int hide;                   /* hide_recipients: wildcard key ids */
    int reject_missing;         /* missing_key_action = reject */
    size_t max_size;
    char too_big; /* 't'empfail, 'r'eject, 'p'ass */
};

/* One header field as the MTA gave it (value: no leading blank, folds as "\n"). */
struct mw_pgp_hdr {
    char *name, *value;
};

struct mw_pgp_msg {
    struct mw_pgp_hdr *hdrs;
    size_t nhdrs, cap;
    struct mw_buf body; /* CRLF lines as the MTA sent them */
    size_t size;        /* bytes of headers and body so far */
    int too_big;        /* over max_size: body dropped */
    int reinjected;     /* carries our loop guard */
};

/* A fresh loop-guard token for this process (once, in init). */
void mw_pgp_guard_init(void);
void mw_pgp_msg_header(struct mw_pgp_msg *pm, const struct mw_pgp_settings *s, const char *name,
                       const char *value);
void mw_pgp_msg_free(struct mw_pgp_msg **pmp);
enum mw_verdict mw_pgp_flow(const struct mw_pgp_settings *s, struct mw_pgp_msg *pm,
                            struct mw_msg *m);

#endif
