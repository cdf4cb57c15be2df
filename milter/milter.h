/*
 * milter.h - what the parts of mailward-milter share.
 *
 * main.c owns the process: configuration, plugins, signals, reload and
 * draining. callbacks.c turns libmilter callbacks into plugin hook calls on
 * a struct mw_msg per connection. eom.c applies what the plugins recorded
 * (header changes, the one Authentication-Results header) and writes the
 * one syslog line per message.
 *
 * Threads: libmilter runs each SMTP connection on its own thread. Every
 * callback holds mw_milter.lock for reading while it runs hooks or reads
 * mw_milter.set; reload (SIGHUP) takes it for writing, so a plugin's
 * configure() and the host settings never change under a running hook.
 */
#ifndef MW_MILTER_H
#define MW_MILTER_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>

#include <libmilter/mfapi.h>

#include "mw/addr.h"
#include "mw/msg-host.h"
#include "mw/plugins.h"

/* Host settings from [milter]; immutable once built, replaced whole on reload. */
struct mw_milter_settings {
    char *authserv_id;
    struct mw_cidr_list internal_hosts;
    size_t max_headers;     /* header fields per message; more: 552 5.3.4 */
    size_t max_header_size; /* bytes of one field (name + value); more: 552 5.3.4 */
};

struct mw_milter {
    struct mw_plugins plugins; /* fixed at start-up; only reconfigured */
    pthread_rwlock_t lock;     /* hooks and readers of set: read; reload: write */
    struct mw_milter_settings *set;
    pthread_mutex_t conn_lock; /* guards conns */
    pthread_cond_t conn_idle;  /* signalled when conns drops to 0 */
    size_t conns;              /* SMTP connections in progress */
};

extern struct mw_milter mw_milter;

/* Per-connection state, the libmilter private pointer. */
struct mw_conn {
    struct mw_msg *msg;
    /* Per message (reset by mw_conn_end_message): */
    size_t ar_seen;           /* Authentication-Results headers seen so far */
    struct mw_ar_claim *ours; /* those claiming our authserv-id, last first */
    const char *ended_by;     /* plugin whose verdict ended the message */
    int held;                 /* enum mw_verdict of a no-reply stage, answered at EOM */
    unsigned nheaders;        /* header fields so far; MW_OVER_LIMIT: a limit was exceeded */
};

#define MW_OVER_LIMIT UINT_MAX

/* An Authentication-Results header (index from 1) that claims our authserv-id. */
struct mw_ar_claim {
    size_t index;
    struct mw_ar_claim *next;
};

/* The stages of a message, in SMTP order; the hooks of struct mw_milter_hooks. */
enum mw_stage {
    MW_ST_CONNECT,
    MW_ST_HELO,
    MW_ST_MAIL,
    MW_ST_RCPT,
    MW_ST_HEADER,
    MW_ST_EOH,
    MW_ST_BODY,
    MW_ST_EOM
};
#define MW_ST_COUNT (MW_ST_EOM + 1)

/* The libmilter description of this filter (callbacks.c). */
extern struct smfiDesc mw_milter_desc;

/* Build settings from a validated configuration; NULL with err on a bad value. */
struct mw_milter_settings *mw_milter_settings_new(const struct mw_config *cfg, struct mw_err *err);
void mw_milter_settings_free(struct mw_milter_settings **sp);

/*
 * Apply the recorded header changes, then (if there are entries) delete
 * every Authentication-Results header claiming our authserv-id and insert
 * ours on top. -1 if libmilter refused a change (the caller tempfails).
 */
int mw_milter_apply(SMFICTX *ctx, struct mw_conn *c, const struct mw_milter_settings *set);
/* Fold "authserv-id; entry; entry" for the header value (a new string). */
char *mw_milter_ar_value(const char *authserv_id, const struct mw_msg_item *entries);
/* Log the message's one line; rcpt is set for a refused recipient only. */
void mw_milter_log(const struct mw_conn *c, const char *rcpt, const char *action);

/*
 * Per-plugin metrics (stats.c): register the series once the plugins
 * started; around each hook, t0 = start(), hook, end(t0, verdict). Lock-free.
 */
void mw_milter_stats_init(const struct mw_plugins *ps);
void mw_milter_stats_free(void);
double mw_milter_stats_start(size_t plugin, enum mw_stage st);
void mw_milter_stats_end(size_t plugin, enum mw_stage st, double t0, enum mw_verdict v);

#endif
