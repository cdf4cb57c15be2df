/*
 * stats.c - per-plugin metrics of mailward-milter: how long each plugin's
 * hook takes per stage, and which verdicts each plugin gave.
 *
 *   mailward_milter_stage_duration_seconds{stage="eom",plugin="dkim"}  histogram
 *   mailward_milter_plugin_verdicts_total{plugin="dkim",action="reject"} counter
 *
 * The series are registered once, after the plugins started (the set of
 * plugins is fixed for the life of the process), into a table indexed by
 * plugin and stage, so the hook path never takes the registry lock: it
 * reads the monotonic clock twice and does two atomic adds. A stage a
 * plugin has no hook for has no series (no zero-time noise).
 */
#include "config.h"

#include <stdio.h>

#include "milter.h"
#include "mw/alloc.h"
#include "mw/metrics.h"

static const char *const mw_stage_names[MW_ST_COUNT] = {
    "connect", "helo", "mail", "rcpt", "header", "eoh", "body", "eom",
};

/* The verdicts a plugin can end a message with (MW_CONTINUE is not counted). */
static const char *const mw_action_names[] = {"accept", "reject", "tempfail", "discard"};
#define MW_ACTIONS (sizeof(mw_action_names) / sizeof(mw_action_names[0]))

struct mw_plugin_stats {
    struct mw_histogram *stage[MW_ST_COUNT]; /* NULL: the plugin has no such hook */
    struct mw_counter *verdict[MW_ACTIONS];
};

static struct mw_plugin_stats *mw_stats;
static size_t mw_nstats;

static int
mw_hook_present(const struct mw_milter_hooks *k, enum mw_stage st)
{
    switch (st) {
    case MW_ST_CONNECT:
        return k->connect != NULL;
    case MW_ST_HELO:
        return k->helo != NULL;
    case MW_ST_MAIL:
        return k->mail != NULL;
    case MW_ST_RCPT:
        return k->rcpt != NULL;
    case MW_ST_HEADER:
        return k->header != NULL;
    case MW_ST_EOH:
        return k->eoh != NULL;
    case MW_ST_BODY:
        return k->body != NULL;
    case MW_ST_EOM:
        break;
    }
    return k->eom != NULL;
}

void
mw_milter_stats_init(const struct mw_plugins *ps)
{
    char labels[160];

    mw_milter_stats_free();
    mw_stats = mw_calloc(ps->n ? ps->n : 1, sizeof(*mw_stats));
    mw_nstats = ps->n;
    for (size_t i = 0; i < ps->n; i++) {
        const struct mw_plugin *p = ps->v[i].plugin;

        if (p->milter == NULL)
            continue;
        for (int st = 0; st < MW_ST_COUNT; st++) {
            if (!mw_hook_present(p->milter, (enum mw_stage)st))
                continue;
            snprintf(labels, sizeof(labels), "stage=\"%s\",plugin=\"%s\"", mw_stage_names[st],
                     p->name);
            mw_stats[i].stage[st] = mw_metrics_histogram(
                "mailward_milter_stage_duration_seconds", labels,
                "Time a plugin's hook took, per stage and plugin (body: per chunk)", NULL, 0);
        }
        for (size_t a = 0; a < MW_ACTIONS; a++) {
            snprintf(labels, sizeof(labels), "plugin=\"%s\",action=\"%s\"", p->name,
                     mw_action_names[a]);
            mw_stats[i].verdict[a] = mw_metrics_counter(
                "mailward_milter_plugin_verdicts_total", labels,
                "Messages (or recipients) a plugin ended, per plugin and verdict");
        }
    }
}

void
mw_milter_stats_free(void)
{
    mw_free(&mw_stats);
    mw_nstats = 0;
}

double
mw_milter_stats_start(size_t plugin, enum mw_stage st)
{
    if (plugin >= mw_nstats || mw_stats[plugin].stage[st] == NULL)
        return 0;
    return mw_metrics_now();
}

void
mw_milter_stats_end(size_t plugin, enum mw_stage st, double t0, enum mw_verdict v)
{
    if (plugin >= mw_nstats)
        return;
    if (t0 > 0 && mw_stats[plugin].stage[st] != NULL)
        mw_histogram_observe(mw_stats[plugin].stage[st], mw_metrics_now() - t0);
    switch (v) {
    case MW_CONTINUE:
        break;
    case MW_ACCEPT:
        mw_counter_inc(mw_stats[plugin].verdict[0]);
        break;
    case MW_REJECT:
        mw_counter_inc(mw_stats[plugin].verdict[1]);
        break;
    case MW_TEMPFAIL:
        mw_counter_inc(mw_stats[plugin].verdict[2]);
        break;
    case MW_DISCARD:
        mw_counter_inc(mw_stats[plugin].verdict[3]);
        break;
    }
}
