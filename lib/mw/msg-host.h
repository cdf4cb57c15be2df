/*
 * mw/msg-host.h - the host side of mw/msg.h: building a struct mw_msg and
 * reading back what the plugins recorded.
 *
 * mailward-milter creates one struct mw_msg per SMTP connection
 * (mw_msg_create), feeds it what the MTA tells (client, HELO, macros,
 * envelope), runs each plugin's hooks with mw_msg_set_plugin() naming the
 * current plugin (so mw_msg_data() returns that plugin's slot), and at end
 * of message walks the recorded changes, Authentication-Results entries and
 * log items, then calls mw_msg_reset().
 *
 * Memory: everything that belongs to one message (envelope, message-stage
 * macros, recorded changes, entries, reply, host scratch from
 * mw_msg_alloc()) lives in one arena released by mw_msg_reset() in one call.
 * Connection data (client, HELO, connection-stage macros) lives until
 * mw_msg_free(). Strings passed in are copied.
 *
 * Not thread-safe: a struct mw_msg belongs to its connection's thread.
 */
#ifndef MW_MSG_HOST_H
#define MW_MSG_HOST_H

#include <stddef.h>

#include "mw/msg.h"

enum mw_msg_change_kind {
    MW_MSG_HDR_ADD,    /* append name: value */
    MW_MSG_HDR_INSERT, /* insert name: value at position pos (0 = top) */
    MW_MSG_HDR_CHANGE, /* replace the index-th (from 1) header called name */
    MW_MSG_HDR_DELETE, /* delete the index-th (from 1) header called name */
    MW_MSG_RCPT_ADD,    /* add envelope recipient name */
    MW_MSG_RCPT_DELETE, /* remove envelope recipient name */
};

/* One recorded header change; a list in the order recorded. */
struct mw_msg_change {
    enum mw_msg_change_kind kind;
    const char *name;
    const char *value; /* NULL for MW_MSG_HDR_DELETE */
    size_t index;      /* insert position, or change/delete index */
    const struct mw_msg_change *next;
};

/* One text item (Authentication-Results entry or log item); a list in order. */
struct mw_msg_item {
    const char *text;
    const struct mw_msg_item *next;
};

/* A connection object with a data slot for each of nplugins plugins. */
struct mw_msg *mw_msg_create(size_t nplugins);
/* Free the connection (and the current message) and NULL the pointer. */
void mw_msg_free(struct mw_msg **mp);
/*
 * End the current message: forget envelope, message macros, AUTH user,
 * changes, entries, log items, reply and plugin slots (which the plugins'
 * done hooks must have emptied), and release the message arena.
 */
void mw_msg_reset(struct mw_msg *m);

/* Connection facts; NULL is stored as "" (name, addr) or as absent (helo). */
void mw_msg_set_client(struct mw_msg *m, const char *name, const char *addr);
void mw_msg_set_helo(struct mw_msg *m, const char *helo);
/*
 * Remember a macro value. Connection-stage macros (message_scope 0) last for
 * the connection; message-stage ones (1) until mw_msg_reset() and hide a
 * connection value of the same name.
 */
void mw_msg_set_macro(struct mw_msg *m, const char *name, const char *value, int message_scope);
/* SMTP AUTH user of the current message (NULL: none). */
void mw_msg_set_auth(struct mw_msg *m, const char *user);
void mw_msg_set_direction(struct mw_msg *m, enum mw_direction d);
/* Envelope sender as the MTA sent it; surrounding <> are removed. */
void mw_msg_set_mail_from(struct mw_msg *m, const char *from);
/* Add one recipient (surrounding <> removed). */
void mw_msg_add_rcpt(struct mw_msg *m, const char *rcpt);
/* One header field as the MTA passed it, in order (for mw_msg_final_header()). */
void mw_msg_add_header(struct mw_msg *m, const char *name, const char *value);
/* Whether MAIL FROM was seen since the last reset. */
int mw_msg_in_message(const struct mw_msg *m);

/* Select the plugin whose slot mw_msg_data() returns (index < nplugins). */
void mw_msg_set_plugin(struct mw_msg *m, size_t index);

/* What the plugins recorded for the current message (NULL: nothing). */
const struct mw_msg_change *mw_msg_changes(const struct mw_msg *m);
/* The replacement body: mw_msg_body_replacement() in mw/msg.h. */
const struct mw_msg_item *mw_msg_ar_entries(const struct mw_msg *m);
const struct mw_msg_item *mw_msg_log_items(const struct mw_msg *m);
/* The reason given to mw_msg_quarantine(), NULL if the message is not to be held. */
const char *mw_msg_quarantine_reason(const struct mw_msg *m);
/* The reply set with mw_msg_set_reply(); 0 if one was set, else -1. */
int mw_msg_reply(const struct mw_msg *m, const char **rcode, const char **xcode, const char **text);

/* Host scratch memory in the message arena (zeroed; freed by mw_msg_reset). */
void *mw_msg_alloc(struct mw_msg *m, size_t size);
char *mw_msg_strdup(struct mw_msg *m, const char *s);

#endif
