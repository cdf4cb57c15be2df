/*
 * server.c - mailward-policyd's connection skeleton (see server.h).
 *
 * Everything a connection does goes through mw_conn_pump(): read while
 * there is room, feed buffered input to the protocol, write what is ready,
 * and close the connection once it has no input coming, no request waiting
 * and no reply unsent. Every callback ends by pumping, so the rules live in
 * one place. Pumping may free the connection; callers never touch it
 * afterwards.
 *
 * I/O. A connection is one edge-triggered libevent event for reading and
 * writing, registered once: the kernel says when new bytes arrive or room
 * frees up, and the connection remembers it (can_read, can_write) until a
 * short read or a short write shows the socket drained or full. A lookup
 * answered from memory so costs one read and one write, with no epoll
 * changes in between (a bufferevent costs an ioctl, and two epoll_ctl calls
 * to switch writing on and off, per request: profiled at 40 % of the
 * daemon's system calls under Postfix-like load). Back-pressure is simply
 * not reading: the edge is remembered, and reading resumes when there is
 * room. A connection that still has bytes to read after one read (a
 * pipelining client) is made active again rather than read in a loop, so it
 * never starves the others.
 */
#include "config.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mw/alloc.h"
#include "mw/log.h"
#include "clients.h"
#include "mw/metrics.h"
#include "server.h"

/* Per service metrics, registered once when its listener is bound. */
struct mw_service_metrics {
    struct mw_counter *requests;
    struct mw_histogram *latency;
    struct mw_gauge *connections;
    struct mw_counter *refused; /* closed at accept: max_connections_per_client */
};

struct mw_listener {
    struct evconnlistener *l;
    const struct mw_proto *proto;
    struct mw_server *srv;
    struct mw_service_metrics m;
};

struct mw_conn {
    LIST_ENTRY(mw_conn) link;
    struct mw_server *srv;
    const struct mw_proto *proto;
    struct mw_service_metrics m; /* copied: listeners go away before connections */
    evutil_socket_t fd;
    struct event *ev;     /* EV_READ | EV_WRITE | EV_ET, with the idle timeout */
    struct evbuffer *in;  /* received, not yet taken by the protocol */
    struct evbuffer *out; /* replies not yet written */
    int can_read;         /* an edge said bytes arrived; no short read since */
    int can_write;        /* the socket had room at the last write or edge */
    TAILQ_HEAD(, mw_req) queue;
    size_t nqueue;
    int eof;      /* the peer sends nothing more */
    int in_input; /* proto->input is on the stack */
    time_t partial_since; /* when the incomplete request buffered now began, or 0 */
    void *proto_data;
    char host[NI_MAXHOST]; /* numeric address, "" for unix-socket clients */
    char peer[NI_MAXHOST + NI_MAXSERV + 2];
};

struct mw_server {
    struct event_base *base;
    struct mw_policy *policy;
    struct mw_server_limits limits;
    struct mw_listener **lv;
    size_t nl;
    LIST_HEAD(, mw_conn) conns;
    size_t nconns;
    struct mw_clients *clients; /* open connections per client address */
    time_t refused_logged;      /* last "max_connections_per_client" log line */
    int paused; /* listeners disabled (max_connections or accept errors) */
    int draining;
    struct event *resume; /* re-enables listeners after an accept error */
};

static int mw_conn_pump(struct mw_conn *c);

struct mw_policy *
mw_conn_policy(const struct mw_conn *c)
{
    return c->srv->policy;
}

const char *
mw_conn_peer(const struct mw_conn *c)
{
    return c->peer;
}

void **
mw_conn_proto_data(struct mw_conn *c)
{
    return &c->proto_data;
}

int
mw_conn_room(const struct mw_conn *c)
{
    return c->nqueue < MW_CONN_QUEUE_MAX && evbuffer_get_length(c->out) <= MW_CONN_OUTPUT_MAX;
}

static void
mw_server_listeners_enable(struct mw_server *s, int on)
{
    for (size_t i = 0; i < s->nl; i++) {
        if (on)
            evconnlistener_enable(s->lv[i]->l);
        else
            evconnlistener_disable(s->lv[i]->l);
    }
    s->paused = !on;
}

static void
mw_req_free(struct mw_req *r)
{
    if (r->timer != NULL)
        event_free(r->timer);
    mw_buf_release(&r->reply);
    mw_free(&r->what);
    mw_free(&r);
}

static void
mw_conn_free(struct mw_conn *c)
{
    struct mw_server *s = c->srv;
    struct mw_req *r;

    while ((r = TAILQ_FIRST(&c->queue)) != NULL) {
        TAILQ_REMOVE(&c->queue, r, link);
        if (!r->done && r->q != NULL)
            c->proto->release(r);
        mw_req_free(r);
    }
    c->proto->conn_free(&c->proto_data);
    event_free(c->ev);
    evbuffer_free(c->in);
    evbuffer_free(c->out);
    evutil_closesocket(c->fd);
    LIST_REMOVE(c, link);
    s->nconns--;
    if (c->host[0] != '\0')
        mw_clients_remove(s->clients, c->host);
    mw_gauge_add(c->m.connections, -1);
    mw_log_debug("%s: disconnect from %s", c->proto->name, c->peer);
    mw_free(&c);
    if (s->draining) {
        if (s->nconns == 0)
            event_base_loopexit(s->base, NULL);
    } else if (s->paused && s->nconns < (size_t)s->limits.max_connections) {
        mw_server_listeners_enable(s, 1);
    }
}

/*
 * True when the client has taken longer than request_timeout to send the
 * request buffered now: a client trickling one byte at a time is never idle,
 * so only this frees its connection. before and left are the input's length
 * before and after the protocol consumed what it could.
 */
static int
mw_conn_trickling(struct mw_conn *c, size_t before, size_t left)
{
    time_t now = time(NULL);

    if (left == 0 || !mw_conn_room(c) || c->eof) {
        c->partial_since = 0;
        return 0;
    }
    if (c->partial_since == 0 || left < before)
        c->partial_since = now; /* a new incomplete request began */
    return now - c->partial_since > (time_t)c->srv->limits.request_timeout;
}

#define MW_CONN_READ_SIZE 16384

/* Log why the connection failed; the caller frees it. */
static void
mw_conn_io_error(struct mw_conn *c, const char *op)
{
    mw_log_debug("%s: connection from %s: %s: %s", c->proto->name, c->peer, op,
                 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

/* One read, if the kernel said there are bytes and there is room: 1 read, 0 not, -1 failed. */
static int
mw_conn_fill(struct mw_conn *c)
{
    struct evbuffer_iovec v;
    ssize_t n;

    if (!c->can_read || c->eof || c->srv->draining || !mw_conn_room(c))
        return 0;
    if (evbuffer_reserve_space(c->in, MW_CONN_READ_SIZE, &v, 1) < 1)
        mw_log_panic("out of memory");
    v.iov_len = MW_CONN_READ_SIZE;
    do
        n = read(c->fd, v.iov_base, v.iov_len);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->can_read = 0;
            return 0;
        }
        mw_conn_io_error(c, "read");
        return -1;
    }
    if (n == 0) {
        c->eof = 1;
        return 0;
    }
    v.iov_len = (size_t)n;
    evbuffer_commit_space(c->in, &v, 1);
    if ((size_t)n < MW_CONN_READ_SIZE)
        c->can_read = 0; /* drained: bytes arriving later make a new edge */
    return 1;
}

/* Write what is ready while the socket takes it; -1 when the connection failed. */
static int
mw_conn_flush(struct mw_conn *c)
{
    /* Until all is written or the socket is full (the kernel makes an edge when room frees up). */
    while (c->can_write && evbuffer_get_length(c->out) > 0) {
        if (evbuffer_write(c->out, c->fd) >= 0 || errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->can_write = 0;
            break;
        }
        mw_conn_io_error(c, "write");
        return -1;
    }
    return 0;
}

static int
mw_conn_pump(struct mw_conn *c)
{
    size_t before;
    int got;

    if (c->in_input)
        return 0;
    if ((got = mw_conn_fill(c)) < 0) {
        mw_conn_free(c);
        return -1;
    }
    before = evbuffer_get_length(c->in);
    if (!c->srv->draining && before > 0 && mw_conn_room(c)) {
        int rc;

        c->in_input = 1;
        rc = c->proto->input(c, c->in);
        c->in_input = 0;
        if (rc < 0) {
            mw_conn_free(c);
            return -1;
        }
    }
    if (mw_conn_flush(c) < 0) {
        mw_conn_free(c);
        return -1;
    }
    if (!c->srv->draining && mw_conn_trickling(c, before, evbuffer_get_length(c->in))) {
        mw_log_info("%s: closing connection from %s: request incomplete after %d s "
                    "(request_timeout)", c->proto->name, c->peer, c->srv->limits.request_timeout);
        mw_conn_free(c);
        return -1;
    }
    if (c->eof || c->srv->draining) {
        /* No more bytes will complete what is buffered: with room left it is a fragment. */
        if (c->srv->draining || mw_conn_room(c))
            evbuffer_drain(c->in, evbuffer_get_length(c->in));
        if (c->nqueue == 0 && evbuffer_get_length(c->in) == 0 &&
            evbuffer_get_length(c->out) == 0) {
            mw_conn_free(c);
            return -1;
        }
    } else if (got && c->can_read && mw_conn_room(c)) {
        /* More may be waiting: come back after the other connections had their turn. */
        event_active(c->ev, EV_READ, 0);
    }
    return 0;
}

/* Idle timeout (nothing arrived or drained for idle_timeout): close unless we owe answers. */
static int
mw_conn_timed_out(struct mw_conn *c)
{
    if (evbuffer_get_length(c->out) > 0 && !c->can_write) {
        mw_log_info("%s: closing connection from %s: client does not read its replies",
                    c->proto->name, c->peer);
        return 1;
    }
    if (c->nqueue > 0)
        return 0;
    mw_log_info("%s: closing connection from %s: idle timeout", c->proto->name, c->peer);
    return 1;
}

static void
mw_conn_event_cb(evutil_socket_t fd, short what, void *arg)
{
    struct mw_conn *c = arg;

    if (what & EV_READ)
        c->can_read = 1;
    if (what & EV_WRITE)
        c->can_write = 1;
    if ((what & EV_TIMEOUT) && mw_conn_timed_out(c)) {
        mw_conn_free(c);
        return;
    }
    (void)mw_conn_pump(c);
}

static void
mw_conn_set_timeouts(struct mw_conn *c)
{
    struct timeval tv = {c->srv->limits.idle_timeout, 0};

    if (event_add(c->ev, &tv) < 0)
        mw_log_panic("cannot add a libevent event");
}

/* Too many connections from this address already: close fd at once. 1 if refused. */
static int
mw_listener_refuse(struct mw_listener *ml, evutil_socket_t fd, const char *host)
{
    struct mw_server *s = ml->srv;
    size_t open = mw_clients_count(s->clients, host);
    time_t now;

    if (s->limits.max_per_client <= 0 || host[0] == '\0' ||
        open < (size_t)s->limits.max_per_client)
        return 0;
    evutil_closesocket(fd);
    mw_counter_inc(ml->m.refused);
    if ((now = time(NULL)) - s->refused_logged >= 60) {
        s->refused_logged = now;
        mw_log_warn("%s: refusing connections from %s: %zu open (max_connections_per_client)",
                    ml->proto->name, host, open);
    }
    return 1;
}

static void
mw_listener_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
    struct mw_listener *ml = arg;
    struct mw_server *s = ml->srv;
    struct mw_conn *c;
    char host[NI_MAXHOST], serv[NI_MAXSERV];

    if (sa->sa_family == AF_UNIX || getnameinfo(sa, (socklen_t)salen, host, sizeof(host), serv,
                                                sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        host[0] = '\0';
    if (mw_listener_refuse(ml, fd, host))
        return;
    c = mw_calloc(1, sizeof(*c));
    c->srv = s;
    c->proto = ml->proto;
    c->m = ml->m;
    c->fd = fd;
    TAILQ_INIT(&c->queue);
    if (host[0] == '\0') {
        snprintf(c->peer, sizeof(c->peer), "unix");
    } else {
        snprintf(c->host, sizeof(c->host), "%s", host);
        snprintf(c->peer, sizeof(c->peer), "%s:%s", host, serv);
        mw_clients_add(s->clients, host);
    }
    c->in = evbuffer_new();
    c->out = evbuffer_new();
    c->ev = event_new(s->base, fd, EV_READ | EV_WRITE | EV_PERSIST | EV_ET, mw_conn_event_cb, c);
    if (c->in == NULL || c->out == NULL || c->ev == NULL)
        mw_log_panic("%s: cannot set up connection from %s", ml->proto->name, c->peer);
    mw_gauge_add(c->m.connections, 1);
    mw_conn_set_timeouts(c);
    LIST_INSERT_HEAD(&s->conns, c, link);
    s->nconns++;
    mw_log_debug("%s: connect from %s", ml->proto->name, c->peer);
    if (s->nconns >= (size_t)s->limits.max_connections && !s->paused) {
        mw_log_warn("%s: %zu connections (max_connections): new clients wait", ml->proto->name,
                    s->nconns);
        mw_server_listeners_enable(s, 0);
    }
}

static void
mw_server_resume_cb(evutil_socket_t fd, short what, void *arg)
{
    struct mw_server *s = arg;

    if (!s->draining && s->nconns < (size_t)s->limits.max_connections)
        mw_server_listeners_enable(s, 1);
}

static void
mw_listener_error_cb(struct evconnlistener *l, void *arg)
{
    struct mw_listener *ml = arg;
    struct mw_server *s = ml->srv;
    struct timeval one = {1, 0};
    int e = EVUTIL_SOCKET_ERROR();

    /* Out of descriptors: pause rather than spin on a listener that stays readable. */
    mw_log_error("%s: accept: %s; pausing new connections for 1s", ml->proto->name,
                 evutil_socket_error_to_string(e));
    mw_server_listeners_enable(s, 0);
    evtimer_add(s->resume, &one);
}

struct mw_server *
mw_server_new(struct event_base *base, struct mw_policy *policy,
              const struct mw_server_limits *limits)
{
    struct mw_server *s = mw_calloc(1, sizeof(*s));

    s->base = base;
    s->policy = policy;
    s->limits = *limits;
    s->clients = mw_clients_new();
    LIST_INIT(&s->conns);
    s->resume = evtimer_new(base, mw_server_resume_cb, s);
    if (s->resume == NULL)
        mw_log_panic("cannot create a libevent timer");
    return s;
}

int
mw_server_listen(struct mw_server *s, int fd, const struct mw_proto *proto, struct mw_err *err)
{
    struct mw_listener *ml = mw_calloc(1, sizeof(*ml));

    char labels[64];

    ml->proto = proto;
    ml->srv = s;
    snprintf(labels, sizeof(labels), "service=\"%s\"", proto->name);
    ml->m.requests = mw_metrics_counter("mailward_policyd_requests_total", labels,
                                        "Requests received, per service");
    ml->m.latency = mw_metrics_histogram("mailward_policyd_request_seconds", labels,
                                         "Time from request to answer, per service", NULL, 0);
    ml->m.connections = mw_metrics_gauge("mailward_policyd_connections", labels,
                                         "Client connections open, per service");
    ml->m.refused = mw_metrics_counter(
        "mailward_policyd_refused_connections_total", labels,
        "Connections closed at once: the client had max_connections_per_client open");
    ml->l = evconnlistener_new(s->base, mw_listener_accept_cb, ml,
                               LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
    if (ml->l == NULL) {
        mw_free(&ml);
        return mw_err_set(err, "%s: cannot listen on socket %d", proto->name, fd);
    }
    evconnlistener_set_error_cb(ml->l, mw_listener_error_cb);
    s->lv = mw_reallocarray(s->lv, s->nl + 1, sizeof(*s->lv));
    s->lv[s->nl++] = ml;
    return 0;
}

void
mw_server_set_limits(struct mw_server *s, const struct mw_server_limits *limits)
{
    struct mw_conn *c;

    s->limits = *limits;
    LIST_FOREACH(c, &s->conns, link)
    mw_conn_set_timeouts(c);
}

static void
mw_server_close_listeners(struct mw_server *s)
{
    for (size_t i = 0; i < s->nl; i++) {
        evconnlistener_free(s->lv[i]->l);
        mw_free(&s->lv[i]);
    }
    mw_free(&s->lv);
    s->nl = 0;
}

void
mw_server_drain(struct mw_server *s)
{
    struct mw_conn *c, *next;

    s->draining = 1;
    mw_server_close_listeners(s);
    for (c = LIST_FIRST(&s->conns); c != NULL; c = next) {
        next = LIST_NEXT(c, link);
        (void)mw_conn_pump(c);
    }
    if (s->nconns == 0)
        event_base_loopexit(s->base, NULL);
}

size_t
mw_server_connections(const struct mw_server *s)
{
    return s->nconns;
}

void
mw_server_free(struct mw_server **sp)
{
    struct mw_server *s = *sp;

    if (s == NULL)
        return;
    s->draining = 1; /* no listener re-enabling, no pumping while we close */
    mw_server_close_listeners(s);
    while (!LIST_EMPTY(&s->conns))
        mw_conn_free(LIST_FIRST(&s->conns));
    event_free(s->resume);
    mw_clients_free(&s->clients);
    mw_free(sp);
}

struct mw_req *
mw_conn_req_new(struct mw_conn *c, const char *what)
{
    struct mw_req *r = mw_calloc(1, sizeof(*r));

    r->conn = c;
    r->started = mw_metrics_now();
    mw_counter_inc(c->m.requests);
    mw_buf_init(&r->reply);
    r->what = mw_strdup(what);
    TAILQ_INSERT_TAIL(&c->queue, r, link);
    c->nqueue++;
    return r;
}

static void
mw_req_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct mw_req *r = arg;

    mw_log_warn("%s: %s: no answer within request_timeout (%ds)", r->conn->proto->name,
                r->what ? r->what : "request", r->conn->srv->limits.request_timeout);
    r->conn->proto->timeout(r);
    r->q = NULL;
    mw_req_finish(r);
}

void
mw_req_wait(struct mw_req *r, void *q)
{
    struct timeval tv = {r->conn->srv->limits.request_timeout, 0};

    r->q = q;
    r->timer = evtimer_new(r->conn->srv->base, mw_req_timeout_cb, r);
    if (r->timer == NULL || evtimer_add(r->timer, &tv) < 0)
        mw_log_panic("cannot create a libevent timer");
}

void
mw_req_finish(struct mw_req *r)
{
    struct mw_conn *c = r->conn;
    struct mw_req *head;

    r->done = 1;
    r->q = NULL;
    mw_histogram_observe(c->m.latency, mw_metrics_now() - r->started);
    if (r->timer != NULL)
        event_free(r->timer);
    r->timer = NULL;
    while ((head = TAILQ_FIRST(&c->queue)) != NULL && head->done) {
        TAILQ_REMOVE(&c->queue, head, link);
        c->nqueue--;
        if (evbuffer_add(c->out, head->reply.data, head->reply.len) < 0)
            mw_log_error("%s: cannot queue a reply to %s", c->proto->name, c->peer);
        mw_req_free(head);
    }
    (void)mw_conn_pump(c);
}
