/*
 * mw/metrics.h - counters, gauges and latency histograms; the "stats:" line
 * and the Prometheus endpoint.
 *
 * SYNOPSIS
 *   struct mw_counter *c = mw_metrics_counter("mailward_policyd_lookups_total",
 *                                             "result=\"ok\"", "TLS policy lookups answered");
 *   mw_counter_inc(c);
 *
 *   struct mw_histogram *h = mw_metrics_histogram("mailward_policyd_lookup_seconds", "",
 *                                                 "Time to answer a lookup", NULL, 0);
 *   double t0 = mw_metrics_now();
 *   ...
 *   mw_histogram_observe(h, mw_metrics_now() - t0);
 *
 *   mw_metrics_start(metrics_listen, stats_interval, base, &err);  (daemons, at start-up)
 *   mw_metrics_stop();                                       (daemons, at exit)
 *
 * DESCRIPTION
 *   One process-wide registry. A metric is a name (Prometheus syntax,
 *   "mailward_" prefixed, units in the name: _seconds, _total) plus a label
 *   set written as Prometheus writes it, e.g. `result="ok",plugin="spf"`
 *   ("" for none; always write the labels of one name in the same order).
 *   Registering a name and label set again returns the series registered
 *   first, so a module may register at init or lazily on first use. The
 *   help text of the first registration of a name is kept. Registering one
 *   name with two types, a malformed name or label set, or one histogram
 *   with two sets of bounds, is a programming error: mw_log_panic().
 *
 *   The registry owns every series: names, labels and help are copied. A
 *   pointer returned by a registration stays valid until mw_metrics_clear(),
 *   so plugins that are unloaded and loaded again (SIGHUP) get the same
 *   series back and their counters keep counting.
 *
 *   Two renderings, both pure (registry in, text out):
 *   - Prometheus text exposition format 0.0.4: "# HELP" and "# TYPE" once
 *     per name, samples in registration order, histograms as cumulative
 *     _bucket{le="..."} lines ending with le="+Inf", then _sum and _count.
 *   - the syslog line "stats: name=value ...": each name loses its
 *     "mailward_" prefix and a counter's "_total"; label values are appended
 *     to the name with "_" (policyd_lookups_ok=12); a histogram gives
 *     NAME_count=N and NAME_p99=SECONDS (the estimate Prometheus's
 *     histogram_quantile(0.99, ...) gives from the same buckets).
 *
 *   mw_metrics_start() serves GET /metrics over HTTP (libevent's evhttp) and
 *   logs the stats line every stats_interval seconds, either on the caller's
 *   event_base (mailward-policyd) or, with base NULL, on its own event_base in
 *   a dedicated thread (mailward-milter, whose threads belong to libmilter).
 *
 * MEMORY
 *   Everything is owned by the registry or by the server; callers own only
 *   the struct mw_buf they render into.
 *
 * THREAD-SAFETY
 *   Registration, rendering, mw_metrics_unbind() and mw_metrics_clear() take
 *   one lock. Increments, mw_gauge_set() and observations are lock-free
 *   atomics and may run in any number of threads. Callback functions
 *   (mw_metrics_counter_fn, mw_metrics_gauge_fn) run in the thread that
 *   renders (the metrics thread or the caller's event loop) under the
 *   registry lock: they must be thread-safe, quick, and must not call
 *   mw_metrics_* themselves. mw_metrics_start()/mw_metrics_stop() are for the
 *   main thread only.
 */
#ifndef MW_METRICS_H
#define MW_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "mw/buf.h"
#include "mw/err.h"

struct event_base;
struct mw_counter;
struct mw_gauge;
struct mw_histogram;

/* Default histogram bounds in seconds, 0.5 ms .. 10 s (used when bounds is NULL). */
extern const double mw_metrics_latency_bounds[];
extern const size_t mw_metrics_latency_nbounds;

/* Reads a counter value kept elsewhere (e.g. mw_cache_stats()). */
typedef uint64_t mw_metrics_counter_read(void *arg);
/* Reads a gauge value kept elsewhere (e.g. 1 if Redis is up). */
typedef double mw_metrics_gauge_read(void *arg);

/* Register (or find) a counter: a value that only goes up. */
struct mw_counter *mw_metrics_counter(const char *name, const char *labels, const char *help);
/* Add 1 / n. Lock-free. */
void mw_counter_inc(struct mw_counter *c);
void mw_counter_add(struct mw_counter *c, uint64_t n);
/* The current value (increments plus what a bound or unbound callback read). */
uint64_t mw_counter_value(struct mw_counter *c);

/*
 * Register (or find) a counter whose value is fn(arg), read when rendering,
 * plus anything added with mw_counter_add(). fn must return a count that
 * only grows. Binding the same fn and arg again changes nothing; binding
 * another one first freezes the old one's value (see mw_metrics_unbind()).
 */
struct mw_counter *mw_metrics_counter_fn(const char *name, const char *labels, const char *help,
                                         mw_metrics_counter_read *fn, void *arg);

/* Register (or find) a settable gauge: a value that goes up and down. */
struct mw_gauge *mw_metrics_gauge(const char *name, const char *labels, const char *help);
/* Set / add to the value (delta may be negative). Lock-free. */
void mw_gauge_set(struct mw_gauge *g, double v);
void mw_gauge_add(struct mw_gauge *g, double delta);
/* Register (or find) a gauge whose value is fn(arg), read when rendering. */
struct mw_gauge *mw_metrics_gauge_fn(const char *name, const char *labels, const char *help,
                                     mw_metrics_gauge_read *fn, void *arg);

/*
 * Forget every callback bound with this arg (call it before freeing arg or
 * unloading the code of fn, e.g. when a cache is closed): a counter keeps the last value fn
 * returned (and counts on from there if bound again), a gauge keeps its last value. When this
 * returns, no such callback is running or will run.
 */
void mw_metrics_unbind(void *arg);

/*
 * Register (or find) a histogram with nbounds strictly increasing, finite
 * upper bounds (an implicit +Inf bucket follows); bounds NULL means
 * mw_metrics_latency_bounds. At most MW_METRICS_MAX_BOUNDS bounds.
 */
#define MW_METRICS_MAX_BOUNDS 64
struct mw_histogram *mw_metrics_histogram(const char *name, const char *labels, const char *help,
                                          const double *bounds, size_t nbounds);
/* Count one observation of v (seconds, for latencies). NaN is ignored. Lock-free. */
void mw_histogram_observe(struct mw_histogram *h, double v);

/* Seconds on the monotonic clock, for timing: observe(h, mw_metrics_now() - t0). */
double mw_metrics_now(void);

/* Append the Prometheus text (format 0.0.4) of every metric to out. */
void mw_metrics_render_prometheus(struct mw_buf *out);
/* Append the line "stats: name=value ..." (no newline) to out. */
void mw_metrics_render_stats(struct mw_buf *out);

/*
 * Forget every metric and free the registry: at process exit after every
 * user has stopped (mw_metrics_stop() first), and between unit tests. Every
 * pointer handed out before becomes invalid.
 */
void mw_metrics_clear(void);

/*
 * Start serving: an HTTP server on endpoint (HOST:PORT, [IPV6]:PORT or
 * unix:PATH; "" or NULL = off) answering GET /metrics with 200 and
 * "text/plain; version=0.0.4" and anything else with 404, and a timer
 * logging the stats line (mw_log_info) every stats_interval seconds (0 =
 * off). With base, both run on it (call mw_metrics_stop() in its thread);
 * with base NULL, on a private event_base in a thread of ours. The socket is
 * bound here, so call this before dropping privileges and, in a daemon that
 * forks to detach, after the fork. One server per process: -1 if started.
 */
int mw_metrics_start(const char *endpoint, int stats_interval, struct event_base *base,
                     struct mw_err *err);
/* Stop serving and free the server (the thread is joined). Safe if not started. */
void mw_metrics_stop(void);

#endif
