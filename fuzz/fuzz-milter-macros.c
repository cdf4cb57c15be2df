/*
 * fuzz-milter-macros.c - libFuzzer target for the milter host's macro path
 * (milter/callbacks.c mw_macros_take into lib/msg.c): the MTA's macro names
 * and values as arbitrary bytes, stored at connection and message scope,
 * read back, then used as the host uses them ({client_addr} against the
 * internal_hosts CIDR list, {auth_authen} as the SMTP AUTH user, "i" as the
 * queue id). Input: records split at '\n'; each is one scope byte (odd =
 * message scope), a name, a NUL, a value. The last value set for a name at
 * each scope must be the one read back; after the message ends only the
 * connection's macros are left.
 */
// fuzz-sources: lib/msg.c lib/spool.c
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mw/addr.h"
#include "mw/err.h"
#include "mw/msg-host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXREC 64

struct rec {
    char *name, *value;
    int scope;
};

/* The value a lookup must find: the last message-scope one, else the last connection one. */
static const char *
expect(const struct rec *r, size_t n, const char *name, int msg_done)
{
    const char *conn = NULL, *msg = NULL;

    for (size_t i = 0; i < n; i++) {
        if (strcmp(r[i].name, name) != 0)
            continue;
        if (r[i].scope)
            msg = r[i].value;
        else
            conn = r[i].value;
    }
    return msg != NULL && !msg_done ? msg : conn;
}

static void
check(const struct mw_msg *m, const struct rec *r, size_t n, int msg_done)
{
    for (size_t i = 0; i < n; i++) {
        const char *want = expect(r, n, r[i].name, msg_done), *got = mw_msg_macro(m, r[i].name);
        if ((want == NULL) != (got == NULL) || (want != NULL && strcmp(want, got) != 0))
            abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rec r[MAXREC];
    size_t n = 0;
    char *copy = malloc(size + 1), *p = copy, *end = copy + size;
    struct mw_msg *m = mw_msg_create(1);
    struct mw_cidr_list hosts;
    struct mw_err err;
    const char *v;

    memcpy(copy, data, size);
    *end = '\0';
    while (p < end && n < MAXREC) {
        char *nl = memchr(p, '\n', (size_t)(end - p)), *nul;
        if (nl != NULL)
            *nl = '\0';
        else
            nl = end;
        if (nl - p >= 2 && (nul = memchr(p + 1, '\0', (size_t)(nl - p - 1))) != NULL && nul < nl) {
            r[n] = (struct rec){p + 1, nul + 1, p[0] & 1};
            mw_msg_set_macro(m, r[n].name, r[n].value, r[n].scope);
            n++;
        }
        p = nl + 1;
    }
    check(m, r, n, 0);
    /* The host's uses of the values. */
    if (mw_cidr_list_parse("127.0.0.1/32 ::1/128 192.0.2.0/24", &hosts, &err) < 0)
        abort();
    v = mw_msg_macro(m, "{client_addr}");
    mw_msg_set_client(m, mw_msg_macro(m, "{client_name}"), v);
    (void)mw_cidr_list_match(&hosts, mw_msg_client_addr(m));
    mw_cidr_list_release(&hosts);
    mw_msg_set_auth(m, mw_msg_macro(m, "{auth_authen}"));
    mw_msg_set_mail_from(m, (v = mw_msg_macro(m, "{mail_addr}")) ? v : "<>");
    if (mw_msg_queue_id(m) == NULL || *mw_msg_queue_id(m) == '\0')
        abort();
    mw_msg_reset(m);
    check(m, r, n, 1);
    mw_msg_free(&m);
    free(copy);
    return 0;
}
