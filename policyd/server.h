/*
 * server.h - mailward-policyd's connection skeleton: listeners, client
 * connections, and per-connection queues of requests answered in order.
 *
 * SYNOPSIS
 *   mw_server_new(base, policy, limits)       the server (no listeners yet)
 *   mw_server_listen(s, fd, proto, err)       serve proto on a bound socket
 *   mw_server_set_limits(s, limits)           new timeouts/limits (SIGHUP)
 *   mw_server_drain(s)                        stop accepting, finish, exit loop
 *   mw_server_free(&s)                        close everything
 *
 *   Protocol modules (socketmap.c, delegation.c) use:
 *   mw_conn_req_new(c, what)                  queue a request (reply slot)
 *   mw_conn_room(c)                           may another request be queued now?
 *   mw_req_wait(r, q)                         r waits for a plugin: start its timer
 *   mw_req_finish(r)                          r's reply is complete: send in order
 *
 * Each connection is one edge-triggered event and two evbuffers (server.c
 * says why not a bufferevent). A protocol's input function takes as
 * many complete requests from the input buffer as mw_conn_room() allows;
 * each gets a struct mw_req in the connection's queue, whose reply buffer
 * the protocol fills when the answer arrives (now or later). Replies leave
 * in request order, whatever order plugins answer in. Back-pressure: a
 * connection with MW_CONN_QUEUE_MAX requests waiting, or with more than
 * MW_CONN_OUTPUT_MAX bytes of replies the client has not read, is not read
 * from until that drains, so one client cannot make the daemon buffer
 * without bound, and never delays another client.
 *
 * Timeouts: a request not answered within request_timeout gets the
 * protocol's timeout reply; a connection with nothing in progress that
 * sends nothing for idle_timeout (or does not read our replies for that
 * long) is closed. Beyond max_connections the listeners are disabled until
 * a connection closes (clients wait in the kernel's listen queue). A client
 * address that already has max_per_client connections open has a new one
 * closed at once (logged at most once a minute), so one client
 * cannot take every slot; unix-socket clients are not counted.
 *
 * Memory: the server owns connections and requests; a protocol's per-request
 * data (r->q, r->what) is released through its release hook. Single thread.
 */
#ifndef MW_POLICYD_SERVER_H
#define MW_POLICYD_SERVER_H

#include <stddef.h>
#include <sys/queue.h>

#include "mw/buf.h"
#include "mw/err.h"
#include "mw/policy-host.h"

#define MW_CONN_QUEUE_MAX 64
#define MW_CONN_OUTPUT_MAX (256 * 1024)

struct event_base;
struct evbuffer;
struct event;
struct mw_server;
struct mw_conn;

struct mw_server_limits {
    int idle_timeout;    /* seconds */
    int request_timeout; /* seconds */
    int max_connections;
    int max_per_client;  /* connections from one address; 0 = no limit */
};

struct mw_req {
    TAILQ_ENTRY(mw_req) link;
    struct mw_conn *conn;
    int done;            /* reply complete */
    struct mw_buf reply; /* bytes to send, in wire format */
    struct event *timer; /* request_timeout, while waiting for a plugin */
    void *q;             /* the pending question (protocol's type), NULL when none */
    char *what;          /* for log lines: the key or sender asked about */
    double started;      /* mw_metrics_now() when the request arrived */
};

struct mw_proto {
    const char *name; /* "socketmap", "policy" */
    /* Take complete requests from in while mw_conn_room(c); -1 closes the connection. */
    int (*input)(struct mw_conn *c, struct evbuffer *in);
    /* r's time limit passed: abandon r->q and fill r->reply (the server then finishes r). */
    void (*timeout)(struct mw_req *r);
    /* The connection is going away while r waits: abandon r->q. */
    void (*release)(struct mw_req *r);
    /* Free the per-connection protocol state (*pp, may be NULL). */
    void (*conn_free)(void **pp);
};

struct mw_server *mw_server_new(struct event_base *base, struct mw_policy *policy,
                                const struct mw_server_limits *limits);
/* Serve proto on fd (bound and listening; the server closes it). */
int mw_server_listen(struct mw_server *s, int fd, const struct mw_proto *proto, struct mw_err *err);
void mw_server_set_limits(struct mw_server *s, const struct mw_server_limits *limits);
/* Stop accepting; close connections as their queues empty; leave the loop when none is left. */
void mw_server_drain(struct mw_server *s);
/* Connections open now. */
size_t mw_server_connections(const struct mw_server *s);
/* Close every listener and connection (abandoning pending questions); NULL the pointer. */
void mw_server_free(struct mw_server **sp);

/* The plugin chain, the peer ("127.0.0.1:4711") and the protocol state slot of c. */
struct mw_policy *mw_conn_policy(const struct mw_conn *c);
const char *mw_conn_peer(const struct mw_conn *c);
void **mw_conn_proto_data(struct mw_conn *c);

/* May the protocol queue another request now (queue and output below their bounds)? */
int mw_conn_room(const struct mw_conn *c);
/* A new request at the end of c's queue; what (may be NULL) is copied. */
struct mw_req *mw_conn_req_new(struct mw_conn *c, const char *what);
/* r waits for the plugins on question q: start its request_timeout. */
void mw_req_wait(struct mw_req *r, void *q);
/* r->reply is complete: send every finished reply at the head of the queue. */
void mw_req_finish(struct mw_req *r);

#endif
