/*
 * metrics-http.c - serving the registry: GET /metrics over HTTP and the
 * periodic "stats:" syslog line (see mw/metrics.h, mw_metrics_start()).
 *
 * libevent's evhttp does the HTTP; we only answer one path. The server runs
 * either on the caller's event_base or on a private one in a thread of ours.
 * In the threaded case the thread is stopped by activating a "stop" event
 * from the main thread (libevent's pthreads locking makes that safe): unlike
 * event_base_loopbreak(), an activation made before the loop has started is
 * not lost.
 *
 * The stats line goes to syslog through mw_log_info(); a line longer than a
 * log line allows is split at field boundaries into several "stats:" lines,
 * because a cut field would be a wrong number.
 *
 * Memory: everything here belongs to the one static server. Thread-safety:
 * start and stop are for the main thread only; the callbacks run in the
 * server's event loop.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>

#include "mw/alloc.h"
#include "mw/buf.h"
#include "mw/log.h"
#include "mw/metrics.h"
#include "mw/net.h"

/* Bytes of fields per syslog line; below log.c's line limit with room for the ident. */
#define MW_STATS_LINE_MAX 1800
/* Seconds an HTTP client may take; scrapes are tiny. */
#define MW_METRICS_HTTP_TIMEOUT 10

static struct mw_metrics_server {
    int started;
    struct event_base *base;
    int own_base; /* base and thread are ours */
    pthread_t thread;
    struct event *stop_ev;
    struct evhttp *http;
    struct event *stats_ev;
    struct timeval interval;
} mw_server;

static pthread_once_t mw_metrics_evthread_once = PTHREAD_ONCE_INIT;
static int mw_metrics_evthread_rc;

static void
mw_metrics_evthread_init(void)
{
    mw_metrics_evthread_rc = evthread_use_pthreads();
}

static void
mw_metrics_http_cb(struct evhttp_request *req, void *arg)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    struct evbuffer *body;
    struct mw_buf text;

    if (path == NULL || strcmp(path, "/metrics") != 0) {
        evhttp_send_error(req, HTTP_NOTFOUND, NULL);
        return;
    }
    mw_buf_init(&text);
    mw_metrics_render_prometheus(&text);
    body = evbuffer_new();
    if (body == NULL || evbuffer_add(body, text.data, text.len) < 0) {
        evhttp_send_error(req, HTTP_INTERNAL, NULL);
    } else {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                          "text/plain; version=0.0.4; charset=utf-8");
        evhttp_send_reply(req, HTTP_OK, "OK", body);
    }
    if (body != NULL)
        evbuffer_free(body);
    mw_buf_release(&text);
}

/* Log "stats: ..." in lines of at most MW_STATS_LINE_MAX bytes of fields. */
static void
mw_metrics_log_stats(void)
{
    struct mw_buf line;
    const char *p, *end;

    mw_buf_init(&line);
    mw_metrics_render_stats(&line);
    p = line.data + strlen("stats:");
    end = line.data + line.len;
    do {
        const char *cut = end;

        if ((size_t)(end - p) > MW_STATS_LINE_MAX) {
            cut = p + MW_STATS_LINE_MAX;
            while (cut > p + 1 && *cut != ' ')
                cut--;
            if (cut == p + 1) /* one field longer than a line: it is not cut */
                cut = strchr(p + 1, ' ') ? strchr(p + 1, ' ') : end;
        }
        mw_log_info("stats:%.*s", (int)(cut - p), p);
        p = cut;
    } while (p < end);
    mw_buf_release(&line);
}

static void
mw_metrics_stats_cb(evutil_socket_t fd, short what, void *arg)
{
    mw_metrics_log_stats();
}

static void
mw_metrics_stop_cb(evutil_socket_t fd, short what, void *arg)
{
    event_base_loopbreak(mw_server.base);
}

static void *
mw_metrics_thread(void *arg)
{
    if (event_base_loop(mw_server.base, EVLOOP_NO_EXIT_ON_EMPTY) < 0)
        mw_log_error("metrics: event loop failed");
    return NULL;
}

/* Free what mw_metrics_start() made (the thread is not running). */
static void
mw_metrics_free_server(void)
{
    if (mw_server.http != NULL)
        evhttp_free(mw_server.http);
    if (mw_server.stats_ev != NULL)
        event_free(mw_server.stats_ev);
    if (mw_server.stop_ev != NULL)
        event_free(mw_server.stop_ev);
    if (mw_server.own_base && mw_server.base != NULL)
        event_base_free(mw_server.base);
    memset(&mw_server, 0, sizeof(mw_server));
}

static int
mw_metrics_listen(const char *endpoint, struct mw_err *err)
{
    struct mw_endpoint ep;
    struct mw_err perr;
    int fd;

    if (mw_endpoint_parse(endpoint, &ep, &perr) < 0)
        return mw_err_set(err, "metrics_listen: %s", perr.text);
    if ((fd = mw_net_listen(&ep, 16, &perr)) < 0)
        return mw_err_set(err, "metrics_listen: %s", perr.text);
    mw_server.http = evhttp_new(mw_server.base);
    if (mw_server.http == NULL) {
        close(fd);
        return mw_err_set(err, "metrics: evhttp_new failed");
    }
    evhttp_set_allowed_methods(mw_server.http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
    evhttp_set_timeout(mw_server.http, MW_METRICS_HTTP_TIMEOUT);
    evhttp_set_max_headers_size(mw_server.http, 8192);
    evhttp_set_max_body_size(mw_server.http, 0);
    evhttp_set_gencb(mw_server.http, mw_metrics_http_cb, NULL);
    /* evhttp owns fd from here (LEV_OPT_CLOSE_ON_FREE). */
    if (evhttp_accept_socket_with_handle(mw_server.http, fd) == NULL) {
        close(fd);
        return mw_err_set(err, "metrics: cannot serve %s", endpoint);
    }
    return 0;
}

/* Start the private loop in a thread that takes no signals (they belong to the main thread). */
static int
mw_metrics_spawn(struct mw_err *err)
{
    sigset_t all, old;
    int rc;

    mw_server.stop_ev = event_new(mw_server.base, -1, 0, mw_metrics_stop_cb, NULL);
    if (mw_server.stop_ev == NULL)
        return mw_err_set(err, "metrics: event_new failed");
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&mw_server.thread, NULL, mw_metrics_thread, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return mw_err_set(err, "metrics: pthread_create: %s", strerror(rc));
    return 0;
}

int
mw_metrics_start(const char *endpoint, int stats_interval, struct event_base *base,
                 struct mw_err *err)
{
    if (mw_server.started)
        return mw_err_set(err, "metrics: already started");
    if (stats_interval < 0)
        return mw_err_set(err, "metrics: stats_interval %d is negative", stats_interval);
    if ((endpoint == NULL || *endpoint == '\0') && stats_interval == 0)
        return 0;
    if (base == NULL) {
        pthread_once(&mw_metrics_evthread_once, mw_metrics_evthread_init);
        if (mw_metrics_evthread_rc != 0)
            return mw_err_set(err, "metrics: libevent has no pthreads support");
        if ((base = event_base_new()) == NULL)
            return mw_err_set(err, "metrics: event_base_new failed");
        mw_server.own_base = 1;
    }
    mw_server.base = base;
    if (endpoint != NULL && *endpoint != '\0' && mw_metrics_listen(endpoint, err) < 0)
        goto fail;
    if (stats_interval > 0) {
        mw_server.interval.tv_sec = stats_interval;
        mw_server.stats_ev = event_new(base, -1, EV_PERSIST, mw_metrics_stats_cb, NULL);
        if (mw_server.stats_ev == NULL || event_add(mw_server.stats_ev, &mw_server.interval) < 0) {
            mw_err_set(err, "metrics: cannot arm the stats timer");
            goto fail;
        }
    }
    if (mw_server.own_base && mw_metrics_spawn(err) < 0)
        goto fail;
    mw_server.started = 1;
    return 0;
fail:
    mw_metrics_free_server();
    return -1;
}

void
mw_metrics_stop(void)
{
    if (!mw_server.started)
        return;
    if (mw_server.own_base) {
        event_active(mw_server.stop_ev, EV_TIMEOUT, 0);
        pthread_join(mw_server.thread, NULL);
    }
    mw_metrics_free_server();
}
