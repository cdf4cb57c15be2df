/*
 * fetch.c - MTA-STS policy fetches over libcurl's multi interface on
 * libevent (see fetch.h).
 *
 * The glue is libcurl's "multi_socket" API: libcurl tells us, through the
 * socket callback, which file descriptors to watch and, through the timer
 * callback, when it next wants to be called; libevent events call
 * curl_multi_socket_action() back. Finished transfers are collected with
 * curl_multi_info_read() after every action, outside any libcurl callback,
 * so the user's callback may start or cancel transfers freely.
 */
#include "config.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include "fetch.h"
#include "mw/alloc.h"
#include "mw/buf.h"
#include "mw/log.h"
#include "mw/metrics.h"
#include "policy.h"

/* "https://" + a host of at most 260 bytes + the well-known path. */
#define MW_STS_POLICY_URL_MAX 320

struct mw_sts_fetch {
    struct mw_sts_fetcher *f;
    CURL *easy;
    struct curl_slist *resolve;
    struct mw_buf body;
    int too_big;
    mw_sts_fetch_cb *cb;
    void *arg;
    char errbuf[CURL_ERROR_SIZE];
    LIST_ENTRY(mw_sts_fetch) link;
};

struct mw_sts_fetcher {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    size_t active;
    LIST_HEAD(, mw_sts_fetch) fetches;
};

static void mw_sts_fetcher_collect(struct mw_sts_fetcher *f);

static void
mw_sts_fetch_release(struct mw_sts_fetch *x)
{
    LIST_REMOVE(x, link);
    x->f->active--;
    curl_multi_remove_handle(x->f->multi, x->easy);
    curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->resolve);
    mw_buf_release(&x->body);
    mw_free(&x);
}

/* libevent: a watched socket is ready. */
static void
mw_sts_fetcher_on_socket(evutil_socket_t fd, short what, void *arg)
{
    struct mw_sts_fetcher *f = arg;
    int running, action = 0;

    if (what & EV_READ)
        action |= CURL_CSELECT_IN;
    if (what & EV_WRITE)
        action |= CURL_CSELECT_OUT;
    curl_multi_socket_action(f->multi, fd, action, &running);
    mw_sts_fetcher_collect(f);
}

/* libevent: libcurl's timeout expired. */
static void
mw_sts_fetcher_on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct mw_sts_fetcher *f = arg;
    int running;

    curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    mw_sts_fetcher_collect(f);
}

/* libcurl: watch socket s for what (or stop watching it). */
static int
mw_sts_fetcher_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct mw_sts_fetcher *f = userp;
    struct event *ev = socketp;
    short kind = EV_PERSIST;

    if (what == CURL_POLL_REMOVE) {
        if (ev != NULL) {
            event_free(ev);
            curl_multi_assign(f->multi, s, NULL);
        }
        return 0;
    }
    if (what & CURL_POLL_IN)
        kind |= EV_READ;
    if (what & CURL_POLL_OUT)
        kind |= EV_WRITE;
    if (ev == NULL) {
        ev = event_new(f->base, s, kind, mw_sts_fetcher_on_socket, f);
        if (ev == NULL)
            mw_log_panic("mta-sts: event_new failed");
        curl_multi_assign(f->multi, s, ev);
    } else {
        event_del(ev);
        event_assign(ev, f->base, s, kind, mw_sts_fetcher_on_socket, f);
    }
    event_add(ev, NULL);
    return 0;
}

/* libcurl: call me back in timeout_ms (-1: no timer needed). */
static int
mw_sts_fetcher_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct mw_sts_fetcher *f = userp;
    struct timeval tv;

    if (timeout_ms < 0) {
        evtimer_del(f->timer);
        return 0;
    }
    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;
    evtimer_add(f->timer, &tv);
    return 0;
}

static size_t
mw_sts_fetch_write_cb(char *data, size_t size, size_t n, void *arg)
{
    struct mw_sts_fetch *x = arg;

    /* size is 1 for libcurl's write callback. */
    if (n > MW_STS_POLICY_MAX || x->body.len + n > MW_STS_POLICY_MAX) {
        x->too_big = 1;
        return 0;
    }
    mw_buf_append(&x->body, data, n * size);
    return n * size;
}

/* "text/plain" with or without parameters, any case. */
static int
mw_sts_fetch_is_text_plain(const char *ctype)
{
    size_t n = strlen("text/plain");

    if (ctype == NULL || strncasecmp(ctype, "text/plain", n) != 0)
        return 0;
    return ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ' || ctype[n] == '\t';
}

/* Judge a finished transfer: 1 ok, or 0 with why; *result is the metric label. */
static int
mw_sts_fetch_judge(struct mw_sts_fetch *x, CURLcode rc, char *why, size_t len, const char **result)
{
    long status = 0;
    char *ctype = NULL;

    *result = "too_large";
    if (x->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
        snprintf(why, len, "policy larger than %d bytes", MW_STS_POLICY_MAX);
        return 0;
    }
    *result = "transfer_error";
    if (rc != CURLE_OK) {
        snprintf(why, len, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
        return 0;
    }
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ctype);
    *result = "http_status";
    if (status != 200) {
        snprintf(why, len, "HTTP status %ld, not 200%s", status,
                 status >= 300 && status < 400 ? " (redirects are not followed)" : "");
        return 0;
    }
    *result = "content_type";
    if (!mw_sts_fetch_is_text_plain(ctype)) {
        snprintf(why, len, "content type %.80s, not text/plain", ctype ? ctype : "missing");
        return 0;
    }
    *result = "ok";
    return 1;
}

/* mailward_http_fetches_total{result} and mailward_http_fetch_duration_seconds. */
static void
mw_sts_fetch_account(struct mw_sts_fetch *x, const char *result)
{
    char labels[48];
    double secs = 0;

    snprintf(labels, sizeof(labels), "result=\"%s\"", result);
    mw_counter_inc(mw_metrics_counter("mailward_http_fetches_total", labels,
                                      "HTTPS fetches (MTA-STS policies), per result"));
    if (curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &secs) == CURLE_OK)
        mw_histogram_observe(mw_metrics_histogram("mailward_http_fetch_duration_seconds", "",
                                                  "Time an HTTPS fetch took", NULL, 0),
                             secs);
}

static void
mw_sts_fetcher_collect(struct mw_sts_fetcher *f)
{
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(f->multi, &left)) != NULL) {
        struct mw_sts_fetch *x = NULL;
        char why[CURL_ERROR_SIZE + 64];
        const char *result;
        int ok;

        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        ok = mw_sts_fetch_judge(x, m->data.result, why, sizeof(why), &result);
        mw_sts_fetch_account(x, result);
        /* Detach first: the callback may start or cancel other transfers. */
        curl_multi_remove_handle(f->multi, x->easy);
        x->cb(x->arg, ok, x->body.data, x->body.len, ok ? NULL : why);
        mw_sts_fetch_release(x);
    }
}

struct mw_sts_fetcher *
mw_sts_fetcher_new(struct event_base *base, struct mw_err *err)
{
    struct mw_sts_fetcher *f = mw_calloc(1, sizeof(*f));

    f->base = base;
    LIST_INIT(&f->fetches);
    if ((f->multi = curl_multi_init()) == NULL) {
        mw_free(&f);
        mw_err_set(err, "mta-sts: curl_multi_init failed");
        return NULL;
    }
    if ((f->timer = evtimer_new(base, mw_sts_fetcher_on_timer, f)) == NULL)
        mw_log_panic("mta-sts: evtimer_new failed");
    curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, mw_sts_fetcher_socket_cb);
    curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
    curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, mw_sts_fetcher_timer_cb);
    curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
    return f;
}

void
mw_sts_fetcher_free(struct mw_sts_fetcher **fp)
{
    struct mw_sts_fetcher *f = *fp;

    if (f == NULL)
        return;
    while (!LIST_EMPTY(&f->fetches))
        mw_sts_fetch_release(LIST_FIRST(&f->fetches));
    curl_multi_cleanup(f->multi);
    event_free(f->timer);
    mw_free(fp);
}

/* Every option of one transfer; 0 or -1 with err. */
static int
mw_sts_fetch_setup(struct mw_sts_fetch *x, const char *host, const struct mw_sts_fetch_opts *o,
                   struct mw_err *err)
{
    CURL *e = x->easy;
    char url[MW_STS_POLICY_URL_MAX];
    int bad = 0; /* any option refused (only a libcurl built without HTTPS refuses these) */

    snprintf(url, sizeof(url), "https://%s/.well-known/mta-sts.txt", host);
    bad |= curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_RESOLVE, x->resolve) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK;
    if (o->ca_file != NULL && *o->ca_file)
        bad |= curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, o->timeout_ms) != CURLE_OK;
    bad |=
        curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)MW_STS_POLICY_MAX) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, mw_sts_fetch_write_cb) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, x) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, x) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, "mailward/" PACKAGE_VERSION " (MTA-STS)") !=
           CURLE_OK;
    if (bad)
        return mw_err_set(err, "mta-sts: libcurl refused an option of an HTTPS fetch");
    return 0;
}

struct mw_sts_fetch *
mw_sts_fetch_start(struct mw_sts_fetcher *f, const char *host, const char *addrs,
                   const struct mw_sts_fetch_opts *o, mw_sts_fetch_cb *cb, void *arg,
                   struct mw_err *err)
{
    struct mw_sts_fetch *x;
    struct mw_buf entry;
    struct curl_slist *l;

    if (strlen(host) > 260) {
        mw_err_set(err, "mta-sts: host name too long");
        return NULL;
    }
    x = mw_calloc(1, sizeof(*x));
    x->f = f;
    x->cb = cb;
    x->arg = arg;
    mw_buf_init(&x->body);
    /* "+" makes the entry expire from libcurl's DNS cache like any other. */
    mw_buf_init(&entry);
    mw_buf_printf(&entry, "+%s:443:%s", host, addrs);
    l = curl_slist_append(NULL, entry.data);
    mw_buf_release(&entry);
    if (l == NULL || (x->easy = curl_easy_init()) == NULL) {
        curl_slist_free_all(l);
        mw_buf_release(&x->body);
        mw_free(&x);
        mw_err_set(err, "mta-sts: libcurl could not start a transfer");
        return NULL;
    }
    x->resolve = l;
    LIST_INSERT_HEAD(&f->fetches, x, link);
    f->active++;
    if (mw_sts_fetch_setup(x, host, o, err) < 0) {
        mw_sts_fetch_release(x);
        return NULL;
    }
    if (curl_multi_add_handle(f->multi, x->easy) != CURLM_OK) {
        mw_sts_fetch_release(x);
        mw_err_set(err, "mta-sts: libcurl could not start a transfer");
        return NULL;
    }
    return x;
}

void
mw_sts_fetch_cancel(struct mw_sts_fetch **xp)
{
    if (*xp == NULL)
        return;
    mw_sts_fetch_release(*xp);
    *xp = NULL;
}

size_t
mw_sts_fetcher_active(const struct mw_sts_fetcher *f)
{
    return f->active;
}
