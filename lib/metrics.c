/*
 * metrics.c - the process-wide registry of counters, gauges and histograms,
 * and its two renderings (see mw/metrics.h).
 *
 * The registry is a list of families (one per metric name, in registration
 * order) each holding a list of series (one per label set). Lists only grow
 * until mw_metrics_clear(), so a series pointer handed out is stable and
 * hot paths never take the lock: values are C11 atomics. A double that must
 * be updated atomically (gauge value, histogram sum) is kept as its bit
 * pattern in an _Atomic uint64_t and changed with compare-and-swap.
 *
 * A histogram stores one non-cumulative count per bucket; the total count is
 * their sum, so a scrape always satisfies le="+Inf" == _count even while
 * other threads observe.
 *
 * Thread-safety: one mutex for the lists and for callbacks; see mw/metrics.h.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mw/alloc.h"
#include "mw/log.h"
#include "mw/metrics.h"

enum mw_metric_type {
    MW_METRIC_COUNTER,
    MW_METRIC_GAUGE,
    MW_METRIC_HISTOGRAM,
};

static const char *const mw_metric_type_names[] = {"counter", "gauge", "histogram"};

struct mw_family;

/* What every series has; the first member of each typed series. */
struct mw_series {
    struct mw_family *family;
    char *labels; /* as registered: `a="x",b="y"` or "" */
    char *fold;   /* label values for the stats line: "_x_y" or "" */
    struct mw_series *next;
};

struct mw_counter {
    struct mw_series s;
    _Atomic uint64_t value;      /* mw_counter_add() */
    uint64_t base;               /* what unbound callbacks last read (lock) */
    mw_metrics_counter_read *fn; /* lock */
    void *arg;                   /* lock */
};

struct mw_gauge {
    struct mw_series s;
    _Atomic uint64_t bits;     /* the double value */
    mw_metrics_gauge_read *fn; /* lock */
    void *arg;                 /* lock */
};

struct mw_histogram {
    struct mw_series s;
    double *bounds;
    size_t nbounds;
    _Atomic uint64_t *buckets; /* nbounds + 1, the last is (bounds[n-1], +Inf) */
    _Atomic uint64_t sum_bits; /* the double sum */
};

struct mw_family {
    char *name;
    char *help;
    enum mw_metric_type type;
    struct mw_series *series;
    struct mw_series **tail;
    struct mw_family *next;
};

static pthread_mutex_t mw_metrics_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mw_family *mw_families;

const double mw_metrics_latency_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                            0.1,    0.25,  0.5,    1,     2.5,  5,     10};
const size_t mw_metrics_latency_nbounds =
    sizeof(mw_metrics_latency_bounds) / sizeof(mw_metrics_latency_bounds[0]);

static double
mw_bits_to_double(uint64_t bits)
{
    double v;

    memcpy(&v, &bits, sizeof(v));
    return v;
}

static uint64_t
mw_double_to_bits(double v)
{
    uint64_t bits;

    memcpy(&bits, &v, sizeof(bits));
    return bits;
}

/* *p += delta for a double kept as bits. */
static void
mw_atomic_add_double(_Atomic uint64_t *p, double delta)
{
    uint64_t old = atomic_load_explicit(p, memory_order_relaxed);

    while (!atomic_compare_exchange_weak_explicit(p, &old,
                                                  mw_double_to_bits(mw_bits_to_double(old) + delta),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

/* Prometheus metric name: [a-zA-Z_:][a-zA-Z0-9_:]* */
static int
mw_metrics_name_ok(const char *name)
{
    if (name == NULL || *name == '\0' || strchr("0123456789", *name) != NULL)
        return 0;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:") ==
           strlen(name);
}

/* A label value character as it may appear in a stats line name. */
static int
mw_metrics_fold_char(int c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
        c == '-')
        return c;
    return '_';
}

/*
 * Check `name="value",...` (escapes \\ \" \n in values) and return the
 * stats-line suffix "_value..." (allocated), or NULL if malformed.
 * A label named "le" is refused for histograms, where it is reserved.
 */
static char *
mw_metrics_labels_parse(const char *labels, enum mw_metric_type type)
{
    struct mw_buf fold;
    const char *p = labels;

    mw_buf_init(&fold);
    while (*p) {
        size_t nlen = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

        if (nlen == 0 || (*p >= '0' && *p <= '9') || p[nlen] != '=' || p[nlen + 1] != '"')
            goto bad;
        if (type == MW_METRIC_HISTOGRAM && nlen == 2 && strncmp(p, "le", 2) == 0)
            goto bad;
        p += nlen + 2;
        if (*p != '"')
            mw_buf_putc(&fold, '_');
        for (; *p != '"'; p++) {
            if (*p == '\0' || *p == '\n')
                goto bad;
            if (*p == '\\') {
                p++;
                if (*p != '\\' && *p != '"' && *p != 'n')
                    goto bad;
                mw_buf_putc(&fold, '_');
                continue;
            }
            mw_buf_putc(&fold, mw_metrics_fold_char((unsigned char)*p));
        }
        p++;
        if (*p == ',' && p[1] != '\0')
            p++;
        else if (*p != '\0')
            goto bad;
    }
    return mw_buf_steal(&fold);
bad:
    mw_buf_release(&fold);
    return NULL;
}

/*
 * Find the series name{labels}, or create it with `size` zeroed bytes
 * (*created = 1). Called with the lock held; panics on misuse.
 */
static struct mw_series *
mw_metrics_find_or_add(const char *name, const char *labels, const char *help,
                       enum mw_metric_type type, size_t size, int *created)
{
    struct mw_family *f, **fp;
    struct mw_series *s;
    char *fold;

    if (labels == NULL)
        labels = "";
    for (fp = &mw_families; (f = *fp) != NULL; fp = &f->next)
        if (strcmp(f->name, name) == 0)
            break;
    if (f != NULL && f->type != type)
        mw_log_panic("metric %s registered as %s and as %s", name, mw_metric_type_names[f->type],
                     mw_metric_type_names[type]);
    for (s = f ? f->series : NULL; s != NULL; s = s->next)
        if (strcmp(s->labels, labels) == 0) {
            *created = 0;
            return s;
        }
    if (!mw_metrics_name_ok(name))
        mw_log_panic("metric name \"%s\" is not a Prometheus name", name ? name : "(null)");
    if ((fold = mw_metrics_labels_parse(labels, type)) == NULL)
        mw_log_panic("metric %s: labels \"%s\" are not name=\"value\",...", name, labels);
    if (f == NULL) {
        f = mw_calloc(1, sizeof(*f));
        f->name = mw_strdup(name);
        f->help = mw_strdup(help ? help : "");
        f->type = type;
        f->tail = &f->series;
        *fp = f;
    }
    s = mw_calloc(1, size);
    s->family = f;
    s->labels = mw_strdup(labels);
    s->fold = fold;
    *f->tail = s;
    f->tail = &s->next;
    *created = 1;
    return s;
}

struct mw_counter *
mw_metrics_counter(const char *name, const char *labels, const char *help)
{
    struct mw_counter *c;
    int created;

    pthread_mutex_lock(&mw_metrics_lock);
    c = (struct mw_counter *)mw_metrics_find_or_add(name, labels, help, MW_METRIC_COUNTER,
                                                    sizeof(*c), &created);
    if (created)
        atomic_init(&c->value, 0);
    pthread_mutex_unlock(&mw_metrics_lock);
    return c;
}

struct mw_counter *
mw_metrics_counter_fn(const char *name, const char *labels, const char *help,
                      mw_metrics_counter_read *fn, void *arg)
{
    struct mw_counter *c = mw_metrics_counter(name, labels, help);

    pthread_mutex_lock(&mw_metrics_lock);
    if (c->fn == fn && c->arg == arg) {
        pthread_mutex_unlock(&mw_metrics_lock);
        return c; /* the same binding again: freezing it would count it twice */
    }
    if (c->fn != NULL)
        c->base += c->fn(c->arg);
    c->fn = fn;
    c->arg = arg;
    pthread_mutex_unlock(&mw_metrics_lock);
    return c;
}

void
mw_counter_inc(struct mw_counter *c)
{
    atomic_fetch_add_explicit(&c->value, 1, memory_order_relaxed);
}

void
mw_counter_add(struct mw_counter *c, uint64_t n)
{
    atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}

/* The value of c; the lock is held. */
static uint64_t
mw_counter_read_locked(struct mw_counter *c)
{
    uint64_t v = atomic_load_explicit(&c->value, memory_order_relaxed) + c->base;

    return c->fn ? v + c->fn(c->arg) : v;
}

uint64_t
mw_counter_value(struct mw_counter *c)
{
    uint64_t v;

    pthread_mutex_lock(&mw_metrics_lock);
    v = mw_counter_read_locked(c);
    pthread_mutex_unlock(&mw_metrics_lock);
    return v;
}

struct mw_gauge *
mw_metrics_gauge(const char *name, const char *labels, const char *help)
{
    struct mw_gauge *g;
    int created;

    pthread_mutex_lock(&mw_metrics_lock);
    g = (struct mw_gauge *)mw_metrics_find_or_add(name, labels, help, MW_METRIC_GAUGE, sizeof(*g),
                                                  &created);
    if (created)
        atomic_init(&g->bits, mw_double_to_bits(0.0));
    pthread_mutex_unlock(&mw_metrics_lock);
    return g;
}

struct mw_gauge *
mw_metrics_gauge_fn(const char *name, const char *labels, const char *help,
                    mw_metrics_gauge_read *fn, void *arg)
{
    struct mw_gauge *g = mw_metrics_gauge(name, labels, help);

    pthread_mutex_lock(&mw_metrics_lock);
    g->fn = fn;
    g->arg = arg;
    pthread_mutex_unlock(&mw_metrics_lock);
    return g;
}

void
mw_gauge_set(struct mw_gauge *g, double v)
{
    atomic_store_explicit(&g->bits, mw_double_to_bits(v), memory_order_relaxed);
}

void
mw_gauge_add(struct mw_gauge *g, double delta)
{
    mw_atomic_add_double(&g->bits, delta);
}

/* The value of g; the lock is held. */
static double
mw_gauge_read_locked(struct mw_gauge *g)
{
    if (g->fn != NULL)
        return g->fn(g->arg);
    return mw_bits_to_double(atomic_load_explicit(&g->bits, memory_order_relaxed));
}

void
mw_metrics_unbind(void *arg)
{
    pthread_mutex_lock(&mw_metrics_lock);
    for (struct mw_family *f = mw_families; f != NULL; f = f->next)
        for (struct mw_series *s = f->series; s != NULL; s = s->next) {
            if (f->type == MW_METRIC_COUNTER) {
                struct mw_counter *c = (struct mw_counter *)s;
                if (c->fn != NULL && c->arg == arg) {
                    c->base += c->fn(c->arg);
                    c->fn = NULL;
                    c->arg = NULL;
                }
            } else if (f->type == MW_METRIC_GAUGE) {
                struct mw_gauge *g = (struct mw_gauge *)s;
                if (g->fn != NULL && g->arg == arg) {
                    mw_gauge_set(g, g->fn(g->arg));
                    g->fn = NULL;
                    g->arg = NULL;
                }
            }
        }
    pthread_mutex_unlock(&mw_metrics_lock);
}

static void
mw_metrics_bounds_check(const char *name, const double *bounds, size_t nbounds)
{
    if (nbounds == 0 || nbounds > MW_METRICS_MAX_BOUNDS)
        mw_log_panic("histogram %s: %zu bounds (1 to %d allowed)", name, nbounds,
                     MW_METRICS_MAX_BOUNDS);
    for (size_t i = 0; i < nbounds; i++)
        if (!isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
            mw_log_panic("histogram %s: bounds must be finite and strictly increasing", name);
}

struct mw_histogram *
mw_metrics_histogram(const char *name, const char *labels, const char *help, const double *bounds,
                     size_t nbounds)
{
    struct mw_histogram *h;
    int created;

    if (bounds == NULL) {
        bounds = mw_metrics_latency_bounds;
        nbounds = mw_metrics_latency_nbounds;
    }
    mw_metrics_bounds_check(name, bounds, nbounds);
    pthread_mutex_lock(&mw_metrics_lock);
    h = (struct mw_histogram *)mw_metrics_find_or_add(name, labels, help, MW_METRIC_HISTOGRAM,
                                                      sizeof(*h), &created);
    if (created) {
        h->bounds = mw_calloc(nbounds, sizeof(double));
        memcpy(h->bounds, bounds, nbounds * sizeof(double));
        h->nbounds = nbounds;
        h->buckets = mw_calloc(nbounds + 1, sizeof(*h->buckets));
        for (size_t i = 0; i <= nbounds; i++)
            atomic_init(&h->buckets[i], 0);
        atomic_init(&h->sum_bits, mw_double_to_bits(0.0));
    } else if (h->nbounds != nbounds || memcmp(h->bounds, bounds, nbounds * sizeof(double)) != 0) {
        mw_log_panic("histogram %s{%s} registered with two sets of bounds", name, h->s.labels);
    }
    pthread_mutex_unlock(&mw_metrics_lock);
    return h;
}

void
mw_histogram_observe(struct mw_histogram *h, double v)
{
    size_t lo = 0, hi = h->nbounds;

    if (isnan(v))
        return;
    /* First bound >= v (buckets are "less than or equal"); nbounds = +Inf. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->bounds[mid] >= v)
            hi = mid;
        else
            lo = mid + 1;
    }
    atomic_fetch_add_explicit(&h->buckets[lo], 1, memory_order_relaxed);
    mw_atomic_add_double(&h->sum_bits, v);
}

double
mw_metrics_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Shortest of %.15g / %.17g that reads back exactly; Prometheus spellings of NaN and Inf. */
static void
mw_metrics_put_double(struct mw_buf *out, double v)
{
    char tmp[64];

    if (isnan(v)) {
        mw_buf_puts(out, "NaN");
        return;
    }
    if (isinf(v)) {
        mw_buf_puts(out, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    snprintf(tmp, sizeof(tmp), "%.15g", v);
    if (strtod(tmp, NULL) != v)
        snprintf(tmp, sizeof(tmp), "%.17g", v);
    mw_buf_puts(out, tmp);
}

/* A consistent-enough copy of h: per-bucket counts, their total and the sum. */
struct mw_histogram_snap {
    uint64_t buckets[MW_METRICS_MAX_BOUNDS + 1];
    uint64_t count;
    double sum;
};

static void
mw_histogram_snapshot(struct mw_histogram *h, struct mw_histogram_snap *snap)
{
    snap->count = 0;
    for (size_t i = 0; i <= h->nbounds; i++) {
        snap->buckets[i] = atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
        snap->count += snap->buckets[i];
    }
    snap->sum = mw_bits_to_double(atomic_load_explicit(&h->sum_bits, memory_order_relaxed));
}

/*
 * The q-quantile as Prometheus's histogram_quantile() estimates it: linear
 * interpolation inside the bucket holding the rank; the highest finite bound
 * if that is the +Inf bucket. 0 when there are no observations.
 */
static double
mw_histogram_quantile(const struct mw_histogram *h, const struct mw_histogram_snap *snap, double q)
{
    double rank = q * (double)snap->count;
    uint64_t cum = 0;

    if (snap->count == 0)
        return 0;
    for (size_t i = 0; i < h->nbounds; i++) {
        uint64_t prev = cum;
        double start;

        cum += snap->buckets[i];
        if ((double)cum < rank)
            continue;
        if (i == 0 && h->bounds[0] <= 0)
            return h->bounds[0];
        start = i == 0 ? 0 : h->bounds[i - 1];
        return start + (h->bounds[i] - start) * ((rank - (double)prev) / (double)snap->buckets[i]);
    }
    return h->bounds[h->nbounds - 1];
}

/* HELP text escaping of the exposition format: backslash and newline. */
static void
mw_metrics_put_help(struct mw_buf *out, const char *help)
{
    for (const char *p = help; *p; p++) {
        if (*p == '\\')
            mw_buf_puts(out, "\\\\");
        else if (*p == '\n')
            mw_buf_puts(out, "\\n");
        else
            mw_buf_putc(out, *p);
    }
}

/* NAMEsuffix{labels[,le="bound"]} */
static void
mw_metrics_put_sample_name(struct mw_buf *out, const struct mw_series *s, const char *suffix,
                           const char *le)
{
    const char *labels = s->labels;

    mw_buf_printf(out, "%s%s", s->family->name, suffix);
    if (*labels == '\0' && le == NULL)
        return;
    mw_buf_printf(out, "{%s", labels);
    if (le != NULL)
        mw_buf_printf(out, "%sle=\"%s\"", *labels ? "," : "", le);
    mw_buf_putc(out, '}');
}

static void
mw_histogram_render(struct mw_buf *out, struct mw_histogram *h)
{
    struct mw_histogram_snap snap;
    uint64_t cum = 0;

    mw_histogram_snapshot(h, &snap);
    for (size_t i = 0; i <= h->nbounds; i++) {
        struct mw_buf le;

        mw_buf_init(&le);
        if (i < h->nbounds)
            mw_metrics_put_double(&le, h->bounds[i]);
        else
            mw_buf_puts(&le, "+Inf");
        cum += snap.buckets[i];
        mw_metrics_put_sample_name(out, &h->s, "_bucket", le.data);
        mw_buf_printf(out, " %" PRIu64 "\n", cum);
        mw_buf_release(&le);
    }
    mw_metrics_put_sample_name(out, &h->s, "_sum", NULL);
    mw_buf_putc(out, ' ');
    mw_metrics_put_double(out, snap.sum);
    mw_buf_putc(out, '\n');
    mw_metrics_put_sample_name(out, &h->s, "_count", NULL);
    mw_buf_printf(out, " %" PRIu64 "\n", snap.count);
}

void
mw_metrics_render_prometheus(struct mw_buf *out)
{
    pthread_mutex_lock(&mw_metrics_lock);
    for (struct mw_family *f = mw_families; f != NULL; f = f->next) {
        if (*f->help != '\0') {
            mw_buf_printf(out, "# HELP %s ", f->name);
            mw_metrics_put_help(out, f->help);
            mw_buf_putc(out, '\n');
        }
        mw_buf_printf(out, "# TYPE %s %s\n", f->name, mw_metric_type_names[f->type]);
        for (struct mw_series *s = f->series; s != NULL; s = s->next) {
            if (f->type == MW_METRIC_HISTOGRAM) {
                mw_histogram_render(out, (struct mw_histogram *)s);
                continue;
            }
            mw_metrics_put_sample_name(out, s, "", NULL);
            mw_buf_putc(out, ' ');
            if (f->type == MW_METRIC_COUNTER)
                mw_buf_printf(out, "%" PRIu64, mw_counter_read_locked((struct mw_counter *)s));
            else
                mw_metrics_put_double(out, mw_gauge_read_locked((struct mw_gauge *)s));
            mw_buf_putc(out, '\n');
        }
    }
    pthread_mutex_unlock(&mw_metrics_lock);
}

/* " short" of a stats field: no "mailward_", no counter "_total", label values folded in. */
static void
mw_metrics_put_short_name(struct mw_buf *out, const struct mw_series *s)
{
    const char *name = s->family->name;
    size_t len;

    if (strncmp(name, "mailward_", 9) == 0 && name[9] != '\0')
        name += 9;
    len = strlen(name);
    if (s->family->type == MW_METRIC_COUNTER && len > 6 && strcmp(name + len - 6, "_total") == 0)
        len -= 6;
    mw_buf_putc(out, ' ');
    mw_buf_append(out, name, len);
    mw_buf_puts(out, s->fold);
}

void
mw_metrics_render_stats(struct mw_buf *out)
{
    pthread_mutex_lock(&mw_metrics_lock);
    mw_buf_puts(out, "stats:");
    for (struct mw_family *f = mw_families; f != NULL; f = f->next)
        for (struct mw_series *s = f->series; s != NULL; s = s->next) {
            mw_metrics_put_short_name(out, s);
            if (f->type == MW_METRIC_COUNTER) {
                mw_buf_printf(out, "=%" PRIu64, mw_counter_read_locked((struct mw_counter *)s));
            } else if (f->type == MW_METRIC_GAUGE) {
                mw_buf_putc(out, '=');
                mw_metrics_put_double(out, mw_gauge_read_locked((struct mw_gauge *)s));
            } else {
                struct mw_histogram *h = (struct mw_histogram *)s;
                struct mw_histogram_snap snap;

                mw_histogram_snapshot(h, &snap);
                mw_buf_printf(out, "_count=%" PRIu64, snap.count);
                mw_metrics_put_short_name(out, s);
                mw_buf_puts(out, "_p99=");
                mw_metrics_put_double(out, mw_histogram_quantile(h, &snap, 0.99));
            }
        }
    pthread_mutex_unlock(&mw_metrics_lock);
}

void
mw_metrics_clear(void)
{
    struct mw_family *f, *fnext;
    struct mw_series *s, *snext;

    pthread_mutex_lock(&mw_metrics_lock);
    for (f = mw_families; f != NULL; f = fnext) {
        fnext = f->next;
        for (s = f->series; s != NULL; s = snext) {
            snext = s->next;
            if (f->type == MW_METRIC_HISTOGRAM) {
                struct mw_histogram *h = (struct mw_histogram *)s;
                mw_free(&h->bounds);
                mw_free(&h->buckets);
            }
            mw_free(&s->labels);
            mw_free(&s->fold);
            mw_free(&s);
        }
        mw_free(&f->name);
        mw_free(&f->help);
        mw_free(&f);
    }
    mw_families = NULL;
    pthread_mutex_unlock(&mw_metrics_lock);
}
