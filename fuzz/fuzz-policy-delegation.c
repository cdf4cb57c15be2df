/*
 * fuzz-policy-delegation.c - libFuzzer target for mailward-policyd's policy
 * delegation parser (policyd/delegation.c): any bytes arrive in two pieces
 * (the first byte picks the split) on one connection whose skeleton and plugin
 * chain are stubbed here. Every request ends in exactly one reply, which must
 * be one "action=..." line and an empty line; the attributes handed to the
 * plugin chain must be names of [a-z0-9_] and values without control bytes.
 */
// fuzz-sources: policyd/delegation.c
// fuzz-pkgs: libevent
#include "config.h"

#include <event2/buffer.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mw/alloc.h"
#include "../policyd/delegation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mw_conn {
    void *proto_data;
    size_t asked, finished;
};

struct mw_policy *
mw_conn_policy(const struct mw_conn *c)
{
    (void)c;
    return NULL;
}

const char *
mw_conn_peer(const struct mw_conn *c)
{
    (void)c;
    return "fuzz";
}

void **
mw_conn_proto_data(struct mw_conn *c)
{
    return &c->proto_data;
}

int
mw_conn_room(const struct mw_conn *c)
{
    (void)c;
    return 1;
}

struct mw_req *
mw_conn_req_new(struct mw_conn *c, const char *what)
{
    struct mw_req *r = mw_calloc(1, sizeof(*r));

    r->conn = c;
    mw_buf_init(&r->reply);
    r->what = what ? mw_strdup(what) : NULL;
    c->asked++;
    return r;
}

void
mw_req_wait(struct mw_req *r, void *q)
{
    (void)r;
    (void)q;
    abort(); /* the stub chain always answers at once */
}

void
mw_req_finish(struct mw_req *r)
{
    const char *s = (const char *)r->reply.data;
    size_t len = r->reply.len;

    if (len < 9 || strncmp(s, "action=", 7) != 0 || strcmp(s + len - 2, "\n\n") != 0 ||
        memchr(s, '\n', len) != s + len - 2)
        abort();
    r->conn->finished++;
    mw_buf_release(&r->reply);
    mw_free(&r->what);
    mw_free(&r);
}

struct mw_accessq *
mw_policy_access_ask(struct mw_policy *p, struct mw_policy_attr *attrs, size_t n,
                     mw_access_done_fn *done, void *arg)
{
    (void)p;
    for (size_t i = 0; i < n; i++) {
        const char *v = attrs[i].value;

        if (attrs[i].name[0] == '\0' ||
            strspn(attrs[i].name, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(attrs[i].name))
            abort();
        for (; *v != '\0'; v++)
            if ((unsigned char)*v < 0x20 || *v == 0x7f)
                abort();
        mw_free(&attrs[i].name);
        mw_free(&attrs[i].value);
    }
    mw_free(&attrs);
    done(arg, "DUNNO", NULL);
    return NULL;
}

void
mw_accessq_abandon(struct mw_accessq *q)
{
    (void)q;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mw_conn c = {NULL, 0, 0};
    struct evbuffer *in = evbuffer_new();
    size_t split = size > 0 ? data[0] % (size + 1) : 0;

    if (in == NULL)
        abort();
    evbuffer_add(in, data, split);
    mw_delegation_proto.input(&c, in);
    evbuffer_add(in, data + split, size - split);
    mw_delegation_proto.input(&c, in);
    if (c.asked != c.finished)
        abort();
    mw_delegation_proto.conn_free(&c.proto_data);
    evbuffer_free(in);
    return 0;
}
