/*
 * test-metrics.c - unit tests of lib/metrics.c and lib/metrics-http.c.
 *
 * The registry and both renderings are checked against exact expected text;
 * the HTTP endpoint is started for real on a free 127.0.0.1 port and fetched
 * with libcurl, in both modes (own thread, caller's event_base); the stats
 * timer is checked by reading what it logs to stderr.
 */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "mw/alloc.h"
#include "mw/buf.h"
#include "mw/log.h"
#include "mw/metrics.h"

static int
teardown(void **state)
{
    mw_metrics_stop();
    mw_metrics_clear();
    return 0;
}

static void
test_register_idempotent(void **state)
{
    struct mw_counter *a = mw_metrics_counter("mailward_x_total", "result=\"ok\"", "X");
    struct mw_counter *b = mw_metrics_counter("mailward_x_total", "result=\"ok\"", "other help");
    struct mw_counter *c = mw_metrics_counter("mailward_x_total", "result=\"fail\"", NULL);
    struct mw_histogram *h1 = mw_metrics_histogram("mailward_t_seconds", "", "T", NULL, 0);
    struct mw_histogram *h2 = mw_metrics_histogram("mailward_t_seconds", NULL, "T", NULL, 0);
    struct mw_gauge *g1 = mw_metrics_gauge("mailward_g", "", "G");
    struct mw_gauge *g2 = mw_metrics_gauge("mailward_g", "", "G");

    assert_ptr_equal(a, b);
    assert_ptr_not_equal(a, c);
    assert_ptr_equal(h1, h2);
    assert_ptr_equal(g1, g2);
    mw_counter_inc(a);
    mw_counter_add(b, 4);
    assert_int_equal(mw_counter_value(a), 5);
    assert_int_equal(mw_counter_value(c), 0);
}

#define THREADS 4
#define PER_THREAD 100000

static void *
increment_thread(void *arg)
{
    struct mw_histogram *h = arg;
    /* Registration from several threads at once must also agree. */
    struct mw_counter *c = mw_metrics_counter("mailward_race_total", "", "race");

    for (int i = 0; i < PER_THREAD; i++) {
        mw_counter_inc(c);
        mw_histogram_observe(h, (i % 2) ? 0.25 : 2.0);
    }
    return NULL;
}

static void
test_threads_exact_totals(void **state)
{
    static const double bounds[] = {0.5, 1};
    struct mw_histogram *h = mw_metrics_histogram("mailward_race_seconds", "", "r", bounds, 2);
    pthread_t t[THREADS];
    struct mw_buf out;
    char want[256];

    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, increment_thread, h), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(mw_counter_value(mw_metrics_counter("mailward_race_total", "", NULL)),
                     THREADS * PER_THREAD);
    mw_buf_init(&out);
    mw_metrics_render_prometheus(&out);
    /* 0.25 and 2.0 are exact in binary, so the sum is exact too. */
    snprintf(want, sizeof(want),
             "mailward_race_seconds_bucket{le=\"0.5\"} %d\n"
             "mailward_race_seconds_bucket{le=\"1\"} %d\n"
             "mailward_race_seconds_bucket{le=\"+Inf\"} %d\n"
             "mailward_race_seconds_sum %d\n"
             "mailward_race_seconds_count %d\n",
             THREADS * PER_THREAD / 2, THREADS * PER_THREAD / 2, THREADS * PER_THREAD,
             THREADS * PER_THREAD / 2 * 2 + THREADS * PER_THREAD / 2 / 4, THREADS * PER_THREAD);
    assert_non_null(strstr(out.data, want));
    assert_non_null(strstr(out.data, "\nmailward_race_total 400000\n"));
    mw_buf_release(&out);
}

static const char expected_prometheus[] =
    "# HELP mailward_lookups_total TLS policy lookups answered\n"
    "# TYPE mailward_lookups_total counter\n"
    "mailward_lookups_total{result=\"ok\"} 12\n"
    "mailward_lookups_total{result=\"temp\"} 0\n"
    "# HELP mailward_redis_up 1 if Redis answers\\nelse 0 \\\\ see cache\n"
    "# TYPE mailward_redis_up gauge\n"
    "mailward_redis_up 1\n"
    "# HELP mailward_stage_seconds Time per stage\n"
    "# TYPE mailward_stage_seconds histogram\n"
    "mailward_stage_seconds_bucket{stage=\"dns\",le=\"0.001\"} 2\n"
    "mailward_stage_seconds_bucket{stage=\"dns\",le=\"0.01\"} 3\n"
    "mailward_stage_seconds_bucket{stage=\"dns\",le=\"0.1\"} 4\n"
    "mailward_stage_seconds_bucket{stage=\"dns\",le=\"+Inf\"} 5\n"
    "mailward_stage_seconds_sum{stage=\"dns\"} 3.5615\n"
    "mailward_stage_seconds_count{stage=\"dns\"} 5\n"
    "# TYPE mailward_connections gauge\n"
    "mailward_connections -2.5\n"
    "# HELP mailward_cache_hits_total Cache hits\n"
    "# TYPE mailward_cache_hits_total counter\n"
    "mailward_cache_hits_total{tier=\"memory\",kind=\"sts\"} 7\n";

static double
read_one(void *arg)
{
    return 1;
}

static uint64_t
read_hits(void *arg)
{
    return *(uint64_t *)arg;
}

/* The registry both rendering tests use. */
static void
fill_registry(uint64_t *hits)
{
    static const double bounds[] = {0.001, 0.01, 0.1};
    struct mw_counter *ok = mw_metrics_counter("mailward_lookups_total", "result=\"ok\"",
                                               "TLS policy lookups answered");
    struct mw_histogram *h;
    struct mw_gauge *g;

    mw_metrics_counter("mailward_lookups_total", "result=\"temp\"", "ignored");
    mw_counter_add(ok, 12);
    mw_metrics_gauge_fn("mailward_redis_up", "", "1 if Redis answers\nelse 0 \\ see cache",
                        read_one, NULL);
    h = mw_metrics_histogram("mailward_stage_seconds", "stage=\"dns\"", "Time per stage", bounds,
                             3);
    mw_histogram_observe(h, 0.0005);
    mw_histogram_observe(h, 0.001); /* on a bound: counted in that bucket */
    mw_histogram_observe(h, 0.05);
    mw_histogram_observe(h, 0.01);
    mw_histogram_observe(h, 3.5);
    g = mw_metrics_gauge("mailward_connections", "", "");
    mw_gauge_set(g, 1);
    mw_gauge_add(g, -3.5);
    mw_metrics_counter_fn("mailward_cache_hits_total", "tier=\"memory\",kind=\"sts\"", "Cache hits",
                          read_hits, hits);
}

static void
test_render_prometheus(void **state)
{
    uint64_t hits = 7;
    struct mw_buf out;

    fill_registry(&hits);
    mw_buf_init(&out);
    mw_metrics_render_prometheus(&out);
    assert_string_equal(out.data, expected_prometheus);
    mw_buf_release(&out);
}

static void
test_render_stats(void **state)
{
    uint64_t hits = 7;
    struct mw_buf out;

    fill_registry(&hits);
    mw_buf_init(&out);
    mw_metrics_render_stats(&out);
    /* p99: rank 4.95 of 5 falls in the +Inf bucket, so the highest bound. */
    assert_string_equal(out.data, "stats: lookups_ok=12 lookups_temp=0 redis_up=1"
                                  " stage_seconds_dns_count=5 stage_seconds_dns_p99=0.1"
                                  " connections=-2.5 cache_hits_memory_sts=7");
    mw_buf_release(&out);
}

static void
test_histogram_quantile(void **state)
{
    static const double bounds[] = {1, 2, 4};
    struct mw_histogram *h = mw_metrics_histogram("mailward_q_seconds", "", "q", bounds, 3);
    struct mw_buf out;

    mw_buf_init(&out);
    mw_metrics_render_stats(&out);
    assert_string_equal(out.data, "stats: q_seconds_count=0 q_seconds_p99=0");
    /* 100 observations in (2,4]: rank 99 is 99% into that bucket: 2 + 2 * 0.99. */
    for (int i = 0; i < 100; i++)
        mw_histogram_observe(h, 3);
    mw_histogram_observe(h, NAN);
    mw_buf_reset(&out);
    mw_metrics_render_stats(&out);
    assert_string_equal(out.data, "stats: q_seconds_count=100 q_seconds_p99=3.98");
    mw_buf_release(&out);
}

static void
test_unbind_freezes(void **state)
{
    uint64_t hits = 5;
    struct mw_counter *c = mw_metrics_counter_fn("mailward_hits_total", "", "h", read_hits, &hits);
    struct mw_gauge *g = mw_metrics_gauge_fn("mailward_up", "", "u", read_one, &hits);
    struct mw_buf out;

    mw_metrics_unbind(&hits);
    hits = 1000; /* no longer read */
    assert_int_equal(mw_counter_value(c), 5);
    /* Bound again (e.g. after a reload): counts on from the frozen value. */
    hits = 2;
    mw_metrics_counter_fn("mailward_hits_total", "", "h", read_hits, &hits);
    assert_int_equal(mw_counter_value(c), 7);
    /* The same binding twice (lazy registration) must not count twice. */
    mw_metrics_counter_fn("mailward_hits_total", "", "h", read_hits, &hits);
    assert_int_equal(mw_counter_value(c), 7);
    mw_gauge_add(g, 1);
    mw_buf_init(&out);
    mw_metrics_render_stats(&out);
    assert_string_equal(out.data, "stats: hits=7 up=2");
    mw_buf_release(&out);
}

/* A port that was free a moment ago on 127.0.0.1. */
static int
free_port(void)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    close(fd);
    return ntohs(sin.sin_port);
}

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
    mw_buf_append(arg, data, size * n);
    return size * n;
}

/* GET (or method) url; returns the status, fills body and the content type. */
static long
fetch_method(const char *method, const char *url, struct mw_buf *body, char *ctype,
             size_t ctype_size)
{
    CURL *c = curl_easy_init();
    long status = 0;
    char *ct = NULL;

    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    if (method != NULL)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    snprintf(ctype, ctype_size, "%s", ct ? ct : "");
    curl_easy_cleanup(c);
    return status;
}

static long
fetch(const char *url, struct mw_buf *body, char *ctype, size_t ctype_size)
{
    return fetch_method(NULL, url, body, ctype, ctype_size);
}

/* Start on a free port (another process may take it between our probe and the bind: retry). */
static int
start_on_free_port(struct event_base *base, char *spec, size_t size)
{
    struct mw_err err;

    for (int tries = 0; tries < 5; tries++) {
        snprintf(spec, size, "127.0.0.1:%d", free_port());
        if (mw_metrics_start(spec, 0, base, &err) == 0)
            return 0;
    }
    fail_msg("mw_metrics_start: %s", err.text);
    return -1;
}

/* The endpoint on `spec` serves the registry, 404 elsewhere. */
static void
check_endpoint(const char *spec)
{
    struct mw_counter *c = mw_metrics_counter("mailward_http_test_total", "", "test counter");
    struct mw_buf body;
    char url[128], ctype[128];

    mw_counter_add(c, 42);
    mw_buf_init(&body);
    snprintf(url, sizeof(url), "http://%s/metrics", spec);
    assert_int_equal(fetch(url, &body, ctype, sizeof(ctype)), 200);
    assert_non_null(strstr(ctype, "text/plain; version=0.0.4"));
    assert_non_null(strstr(body.data, "# TYPE mailward_http_test_total counter\n"
                                      "mailward_http_test_total 42\n"));
    mw_counter_inc(c);
    mw_buf_reset(&body);
    snprintf(url, sizeof(url), "http://%s/metrics?x=1", spec);
    assert_int_equal(fetch(url, &body, ctype, sizeof(ctype)), 200);
    assert_non_null(strstr(body.data, "\nmailward_http_test_total 43\n"));
    mw_buf_reset(&body);
    snprintf(url, sizeof(url), "http://%s/other", spec);
    assert_int_equal(fetch(url, &body, ctype, sizeof(ctype)), 404);
    assert_null(strstr(body.data, "mailward_http_test_total"));
    mw_buf_reset(&body);
    snprintf(url, sizeof(url), "http://%s/metrics/x", spec);
    assert_int_equal(fetch(url, &body, ctype, sizeof(ctype)), 404);
    snprintf(url, sizeof(url), "http://%s/metrics", spec);
    /* Other methods are refused by evhttp itself (501) before any body is read. */
    assert_int_equal(fetch_method("DELETE", url, &body, ctype, sizeof(ctype)), 501);
    mw_buf_release(&body);
}

static void
test_http_own_thread(void **state)
{
    char spec[64];
    struct mw_err err;

    start_on_free_port(NULL, spec, sizeof(spec));
    assert_int_equal(mw_metrics_start(spec, 0, NULL, &err), -1); /* one server per process */
    check_endpoint(spec);
    mw_metrics_stop();
    mw_metrics_stop(); /* harmless */
}

static void *
run_base(void *arg)
{
    event_base_dispatch(arg);
    return NULL;
}

static void
test_http_caller_base(void **state)
{
    struct event_base *base;
    pthread_t t;
    char spec[64];

    /* The test drives the daemon's loop from a second thread, so it needs locking. */
    assert_int_equal(evthread_use_pthreads(), 0);
    base = event_base_new();
    assert_non_null(base);
    start_on_free_port(base, spec, sizeof(spec));
    assert_int_equal(pthread_create(&t, NULL, run_base, base), 0);
    check_endpoint(spec);
    event_base_loopbreak(base);
    pthread_join(t, NULL);
    mw_metrics_stop();
    event_base_free(base);
}

static void
test_bind_failure(void **state)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    struct mw_err err;
    char spec[64];
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(listen(fd, 1), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    snprintf(spec, sizeof(spec), "127.0.0.1:%d", ntohs(sin.sin_port));
    assert_int_equal(mw_metrics_start(spec, 0, NULL, &err), -1);
    assert_non_null(strstr(err.text, "metrics_listen"));
    assert_int_equal(mw_metrics_start("nonsense", 0, NULL, &err), -1);
    /* Off: nothing to start, not an error. */
    assert_int_equal(mw_metrics_start("", 0, NULL, &err), 0);
    mw_metrics_stop();
    close(fd);
}

/* The stats timer logs "stats:" lines, split at fields when long; read them from stderr. */
static void
test_stats_timer(void **state)
{
    char path[] = "/tmp/test-metrics-XXXXXX";
    int fd = mkstemp(path), saved = dup(2);
    struct mw_buf log;
    struct mw_err err;
    char name[128], field[160];
    int lines = 0;

    assert_true(fd >= 0 && saved >= 0);
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "mailward_a_rather_long_counter_name_number_%d_total", i);
        mw_counter_add(mw_metrics_counter(name, "", "long"), (uint64_t)i);
    }
    assert_int_equal(dup2(fd, 2), 2);
    mw_log_open("test-metrics", 1);
    assert_int_equal(mw_metrics_start(NULL, 1, NULL, &err), 0);
    mw_buf_init(&log);
    /* Wait (up to 20 s) for a complete round of lines: the last field. */
    for (int i = 0; i < 200 && strstr(log.data, "number_299=299") == NULL; i++) {
        char buf[65536];
        ssize_t n = pread(fd, buf, sizeof(buf), 0);
        mw_buf_reset(&log);
        if (n > 0)
            mw_buf_append(&log, buf, (size_t)n);
        usleep(100000);
    }
    mw_metrics_stop();
    dup2(saved, 2);
    close(saved);
    mw_log_open("test-metrics", 0);
    close(fd);
    unlink(path);
    for (int i = 0; i < 300; i++) {
        snprintf(field, sizeof(field), " a_rather_long_counter_name_number_%d=%d", i, i);
        assert_non_null(strstr(log.data, field));
    }
    for (char *p = log.data; (p = strstr(p, "stats: ")) != NULL; p++) {
        assert_true(strcspn(p, "\n") < 2000);
        lines++;
    }
    assert_true(lines >= 2);
    mw_buf_release(&log);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_register_idempotent, teardown),
        cmocka_unit_test_teardown(test_threads_exact_totals, teardown),
        cmocka_unit_test_teardown(test_render_prometheus, teardown),
        cmocka_unit_test_teardown(test_render_stats, teardown),
        cmocka_unit_test_teardown(test_histogram_quantile, teardown),
        cmocka_unit_test_teardown(test_unbind_freezes, teardown),
        cmocka_unit_test_teardown(test_http_own_thread, teardown),
        cmocka_unit_test_teardown(test_http_caller_base, teardown),
        cmocka_unit_test_teardown(test_bind_failure, teardown),
        cmocka_unit_test_teardown(test_stats_timer, teardown),
    };
    int rc;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    libevent_global_shutdown();
    return rc;
}
