/*
 * main.c - mailward-policyd: Postfix socketmap TLS-policy lookups and
 * policy delegation, answered by plugins, on one libevent thread.
 *
 * Start-up: command line and configuration (lib/daemon.c), the plugins of
 * [policyd] plugins opened, initialised and configured (with -n: that is the
 * check, including every table the plugins name; then exit 0 or 78), the
 * listeners bound, detach unless -f, cache, resolver and metrics opened
 * (mw_policyd_services), pid file, privileges dropped, loop.
 *
 * Signals (libevent signal events, so handlers run in the loop):
 *   SIGHUP   re-read the configuration and reconfigure every plugin without
 *            touching connections; any problem keeps the running settings.
 *   SIGTERM, SIGINT  stop accepting, let requests in progress finish (at most
 *            drain_timeout seconds), exit 0 and remove the pid file. A second
 *            signal exits at once.
 *
 * Only main() exits; everything it starts it also frees, so leak checkers
 * see a clean exit.
 */
#include "config.h"

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "mw/alloc.h"
#include "mw/daemon.h"
#include "mw/log.h"
#include "mw/net.h"
#include "mw/metrics.h"
#include "mw/policy-host.h"
#include "mw/services.h"
#include "delegation.h"
#include "publish.h"
#include "server.h"
#include "socketmap.h"

struct mw_policyd {
    struct mw_daemon_opts opts;
    struct mw_config *cfg;
    struct mw_plugins schema; /* modules declaring the sections cfg was checked against */
    struct mw_plugins plugins;
    struct mw_host host;
    struct event_base *base;
    struct mw_policy *policy;
    struct mw_server *server;
    struct mw_publish *publish; /* [mta-sts-publish] HTTPS listener, NULL when off */
    struct event *sig[3];
    struct event *drain_timer;
    int stopping;
};

/* Settings that only take effect at start: a reload warns when they change. */
static const char *const mw_policyd_restart_keys[][2] = {
    {"policyd", "socketmap_listen"}, {"policyd", "policy_listen"}, {"policyd", "plugins"},
    {"policyd", "pid_file"},         {"general", "plugin_dir"},    {"general", "user"},
    {"mta-sts-publish", "listen"},
};

static void
mw_policyd_versions(void)
{
    mw_daemon_print_lib_versions();
}

/*
 * The one place the host lent to plugins is filled. The shared cache and
 * resolver join in mw_policyd_services(), after detaching: plugins keep the
 * host pointer and see them from their first hook on (mw/services.h).
 */
static void
mw_policyd_host_fill(struct mw_policyd *d)
{
    d->host.program = d->opts.program;
    d->host.base = d->base;
}

/* Cache, resolver and metrics; 0 or a sysexits code (logged). */
static int
mw_policyd_services(struct mw_policyd *d)
{
    struct mw_err err;

    if (mw_services_open(&d->host, d->cfg, &err) < 0) {
        mw_log_error("%s", err.text);
        return EX_CONFIG;
    }
    if (mw_metrics_start(mw_config_str(d->cfg, "policyd", "metrics_listen"),
                         (int)mw_config_int(d->cfg, "general", "stats_interval"), d->base,
                         &err) < 0) {
        mw_log_error("[policyd] metrics_listen: %s", err.text);
        return EX_UNAVAILABLE;
    }
    return 0;
}

static void
mw_policyd_limits(const struct mw_config *cfg, struct mw_server_limits *l)
{
    l->idle_timeout = (int)mw_config_int(cfg, "policyd", "idle_timeout");
    l->request_timeout = (int)mw_config_int(cfg, "policyd", "request_timeout");
    l->max_connections = (int)mw_config_int(cfg, "policyd", "max_connections");
    l->max_per_client = (int)mw_config_int(cfg, "policyd", "max_connections_per_client");
}

static void
mw_policyd_debug(const struct mw_policyd *d)
{
    mw_log_set_debug(d->opts.debug || mw_config_bool(d->cfg, "general", "debug"));
}

/* Open, initialise and configure the plugins; 0 or EX_CONFIG (logged). */
static int
mw_policyd_plugins(struct mw_policyd *d)
{
    char **names = mw_config_list(d->cfg, "policyd", "plugins", NULL);
    const char *dir = mw_config_str(d->cfg, "general", "plugin_dir");
    struct mw_err err;
    int rc = 0;

    if (mw_plugins_open(&d->plugins, dir, names, &err) < 0) {
        mw_log_error("%s: [policyd] plugins: %s", mw_config_where(d->cfg, "policyd", "plugins"),
                     err.text);
        rc = EX_CONFIG;
    } else if (mw_plugins_start(&d->plugins, &d->host, d->cfg, &err) < 0) {
        mw_log_error("%s", err.text);
        rc = EX_CONFIG;
    }
    mw_strv_free(&names);
    return rc;
}

/* Bind one listener (empty spec = off); 0 or a sysexits code (logged). */
static int
mw_policyd_listen(struct mw_policyd *d, const char *key, const struct mw_proto *proto)
{
    const char *spec = mw_config_str(d->cfg, "policyd", key);
    struct mw_endpoint ep;
    struct mw_err err;
    int fd;

    if (*spec == '\0')
        return 0;
    if (mw_endpoint_parse(spec, &ep, &err) < 0) {
        mw_log_error("%s: [policyd] %s: %s", mw_config_where(d->cfg, "policyd", key), key,
                     err.text);
        return EX_CONFIG;
    }
    if ((fd = mw_net_listen(&ep, 1024, &err)) < 0 ||
        mw_server_listen(d->server, fd, proto, &err) < 0) {
        mw_log_error("[policyd] %s %s: %s", key, spec, err.text);
        return EX_UNAVAILABLE;
    }
    mw_log_info("%s: listening on %s", proto->name, spec);
    return 0;
}

/* The MTA-STS publishing listener (off when listen is empty); bind unless
 * only checking. 0 or a sysexits code (logged). */
static int
mw_policyd_publish(struct mw_policyd *d, int bind)
{
    struct mw_err err;

    if (mw_publish_new(&d->publish, d->base, d->cfg, &err) < 0) {
        mw_log_error("%s: %s", d->opts.config_path, err.text);
        return EX_CONFIG;
    }
    if (bind && d->publish != NULL && mw_publish_listen(d->publish, &err) < 0) {
        mw_log_error("[mta-sts-publish] listen: %s", err.text);
        return EX_UNAVAILABLE;
    }
    return 0;
}

static void
mw_policyd_reload(struct mw_policyd *d)
{
    struct mw_plugins schema = {NULL, 0};
    struct mw_config *cfg = mw_daemon_config(&d->opts, &schema);
    struct mw_server_limits limits;
    struct mw_err err, err2;

    if (cfg == NULL) {
        mw_log_error("reload: %s has problems: keeping the running configuration",
                     d->opts.config_path);
        mw_plugins_close(&schema);
        return;
    }
    if (mw_plugins_configure(&d->plugins, cfg, &err) < 0) {
        mw_log_error("reload: %s: keeping the running configuration", err.text);
        /* Plugins before the failing one took the new settings: give them the old ones back. */
        if (mw_plugins_configure(&d->plugins, d->cfg, &err2) < 0)
            mw_log_error("reload: restoring the running configuration: %s", err2.text);
        mw_config_free(&cfg);
        mw_plugins_close(&schema);
        return;
    }
    for (size_t i = 0; i < sizeof(mw_policyd_restart_keys) / sizeof(*mw_policyd_restart_keys);
         i++) {
        const char *sec = mw_policyd_restart_keys[i][0], *key = mw_policyd_restart_keys[i][1];
        if (strcmp(mw_config_str(cfg, sec, key), mw_config_str(d->cfg, sec, key)) != 0)
            mw_log_warn("reload: [%s] %s changed: takes effect at the next restart", sec, key);
    }
    if (d->publish != NULL && mw_publish_reload(d->publish, cfg, &err) < 0)
        mw_log_error("reload: [mta-sts-publish]: %s: keeping its running sites and certificates",
                     err.text);
    mw_config_free(&d->cfg);
    mw_plugins_close(&d->schema);
    d->cfg = cfg;
    d->schema = schema;
    mw_policyd_debug(d);
    mw_policyd_limits(cfg, &limits);
    mw_server_set_limits(d->server, &limits);
    mw_log_info("reloaded %s", d->opts.config_path);
}

static void
mw_policyd_drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct mw_policyd *d = arg;

    mw_log_warn("drain_timeout: %zu connection%s still waiting for answers: exiting",
                mw_server_connections(d->server), mw_server_connections(d->server) == 1 ? "" : "s");
    event_base_loopexit(d->base, NULL);
}

static void
mw_policyd_signal_cb(evutil_socket_t sig, short what, void *arg)
{
    struct mw_policyd *d = arg;
    struct timeval tv = {0, 0};

    if (sig == SIGHUP) {
        mw_log_info("SIGHUP: reloading %s", d->opts.config_path);
        mw_policyd_reload(d);
        return;
    }
    if (d->stopping) {
        mw_log_warn("signal %d again: exiting now", (int)sig);
        event_base_loopbreak(d->base);
        return;
    }
    d->stopping = 1;
    mw_log_info("signal %d: no new connections, finishing %zu", (int)sig,
                mw_server_connections(d->server));
    tv.tv_sec = (time_t)mw_config_int(d->cfg, "policyd", "drain_timeout");
    d->drain_timer = evtimer_new(d->base, mw_policyd_drain_timeout_cb, d);
    if (d->drain_timer == NULL || evtimer_add(d->drain_timer, &tv) < 0)
        mw_log_panic("cannot create a libevent timer");
    mw_server_drain(d->server);
}

/* Listeners, detach, pid file, privileges, signals; 0 or a sysexits code (logged). */
static int
mw_policyd_start(struct mw_policyd *d)
{
    static const int sigs[3] = {SIGHUP, SIGTERM, SIGINT};
    const char *pid_file = mw_config_str(d->cfg, "policyd", "pid_file");
    const char *user = mw_config_str(d->cfg, "general", "user");
    struct mw_server_limits limits;
    struct mw_err err;
    int rc;

    if (!*mw_config_str(d->cfg, "policyd", "socketmap_listen") &&
        !*mw_config_str(d->cfg, "policyd", "policy_listen")) {
        mw_log_error("%s: socketmap_listen and policy_listen are both empty: nothing to serve",
                     d->opts.config_path);
        return EX_CONFIG;
    }
    mw_policyd_limits(d->cfg, &limits);
    d->server = mw_server_new(d->base, d->policy, &limits);
    if ((rc = mw_policyd_listen(d, "socketmap_listen", &mw_socketmap_proto)) != 0 ||
        (rc = mw_policyd_listen(d, "policy_listen", &mw_delegation_proto)) != 0 ||
        (rc = mw_policyd_publish(d, 1)) != 0)
        return rc;
    if (!d->opts.foreground) {
        if (mw_daemon_detach(&err) < 0) {
            mw_log_error("detach: %s", err.text);
            return EX_OSERR;
        }
        if (event_reinit(d->base) < 0) {
            mw_log_error("detach: cannot re-initialise the libevent base after fork");
            return EX_OSERR;
        }
    }
    if ((rc = mw_policyd_services(d)) != 0)
        return rc;
    if (*pid_file && mw_pidfile_open(pid_file, user, &err) < 0) {
        mw_log_error("%s", err.text);
        return EX_UNAVAILABLE;
    }
    if (mw_daemon_drop_privileges(user, &err) < 0) {
        mw_log_error("%s", err.text);
        return EX_CONFIG;
    }
    for (size_t i = 0; i < 3; i++) {
        d->sig[i] = evsignal_new(d->base, sigs[i], mw_policyd_signal_cb, d);
        if (d->sig[i] == NULL || evsignal_add(d->sig[i], NULL) < 0) {
            mw_log_error("cannot install the handler of signal %d", sigs[i]);
            return EX_OSERR;
        }
    }
    return 0;
}

static void
mw_policyd_cleanup(struct mw_policyd *d)
{
    /*
     * Connections first (they abandon their questions). Then the cache and the
     * resolver: closing them answers the plugins' pending asynchronous work,
     * whose callbacks live in the plugin modules, so this must come before
     * the plugins' fini and dlclose. Then the plugins, then the questions.
     */
    mw_publish_free(&d->publish);
    mw_server_free(&d->server);
    mw_metrics_stop();
    mw_services_close(&d->host);
    mw_plugins_close(&d->plugins);
    mw_policy_free(&d->policy);
    mw_metrics_clear();
    for (size_t i = 0; i < 3; i++)
        if (d->sig[i] != NULL)
            event_free(d->sig[i]);
    if (d->drain_timer != NULL)
        event_free(d->drain_timer);
    if (d->base != NULL)
        event_base_free(d->base);
    mw_config_free(&d->cfg);
    mw_plugins_close(&d->schema);
}

int
main(int argc, char **argv)
{
    struct mw_policyd d;
    int rc;

    memset(&d, 0, sizeof(d));
    d.opts.program = "mailward-policyd";
    mw_daemon_args(argc, argv, &d.opts, mw_policyd_versions);
    mw_log_open(d.opts.program, d.opts.foreground || d.opts.check_only);
    mw_log_set_debug(d.opts.debug);
    signal(SIGPIPE, SIG_IGN); /* a client gone mid-reply is an error return, not a death */
    if ((d.cfg = mw_daemon_config(&d.opts, &d.schema)) == NULL) {
        mw_plugins_close(&d.schema);
        return EX_CONFIG;
    }
    mw_policyd_debug(&d);
    if ((d.base = event_base_new()) == NULL)
        mw_log_fatal(EX_OSERR, "cannot create the libevent base");
    mw_policyd_host_fill(&d);
    d.policy = mw_policy_new(&d.plugins);
    rc = mw_policyd_plugins(&d);
    if (rc == 0 && d.opts.check_only)
        rc = mw_policyd_publish(&d, 0);
    if (rc == 0 && d.opts.check_only) {
        mw_log_info("%s: configuration OK", d.opts.config_path);
    } else if (rc == 0 && (rc = mw_policyd_start(&d)) == 0) {
        mw_log_info("mailward-policyd %s started", PACKAGE_VERSION);
        event_base_dispatch(d.base);
        mw_log_info("mailward-policyd stopped");
    }
    mw_policyd_cleanup(&d);
    mw_pidfile_remove();
    return rc;
}
