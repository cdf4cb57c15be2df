/*
 * main.c - mailward-milter: the libmilter host of the milter plugins.
 *
 * Start-up: command line and configuration (mw/daemon.h), the plugins of
 * [milter] plugins (init + configure; -n stops here), the libmilter socket
 * (opened before dropping root, so a low port or a root-owned directory
 * works), detach, pid file, privileges, then smfi_main() on its own thread.
 *
 * Signals. libmilter starts a thread that sigwait()s for SIGHUP, SIGTERM
 * and SIGINT and stops the filter on any of them, which would make SIGHUP
 * drop every connection. So the main thread blocks those signals before
 * any thread exists (every thread inherits the mask), then unblocks them
 * for itself only and installs handlers. Linux delivers a process-directed
 * signal to the main thread first when that thread has it unblocked, and
 * libmilter's thread never waits for one (sigwait.c parks it), so no signal
 * reaches it even while our handler runs. The handlers only set a flag and post
 * a semaphore; the main thread does the work:
 *   SIGHUP   reload: re-read and validate the file; on any problem keep the
 *            running configuration and log why; else reconfigure the
 *            plugins under the write lock (no hook runs meanwhile).
 *   SIGTERM, SIGINT  smfi_stop() (no new connections), wait for the
 *            connections in progress ([milter] drain_timeout), fini the
 *            plugins, remove the pid file, exit 0.
 * The signals stay unblocked in the main thread while it reloads, so a
 * signal arriving then is still ours.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "milter.h"
#include "mw/alloc.h"
#include "mw/buf.h"
#include "mw/daemon.h"
#include "mw/log.h"
#include "mw/metrics.h"
#include "mw/services.h"

struct mw_milter mw_milter;

static sem_t mw_wake;
static volatile sig_atomic_t mw_got_hup, mw_got_term;
static volatile sig_atomic_t mw_smfi_done;
static int mw_smfi_rc;

/* The running configuration and the modules that declare its plugin sections. */
static struct mw_config *mw_cfg;
static struct mw_plugins mw_schema;

static void
mw_print_versions(void)
{
    unsigned int major, minor, patch;

    mw_daemon_print_lib_versions();
    if (smfi_version(&major, &minor, &patch) == MI_SUCCESS)
        printf("libmilter %u.%u.%u\n", major, minor, patch);
}

static void
mw_on_signal(int sig)
{
    int saved = errno;

    if (sig == SIGHUP)
        mw_got_hup = 1;
    else
        mw_got_term = 1;
    sem_post(&mw_wake);
    errno = saved;
}

static void *
mw_smfi_thread(void *arg)
{
    mw_smfi_rc = smfi_main();
    mw_smfi_done = 1;
    sem_post(&mw_wake);
    return NULL;
}

/* A list value as one string, to compare two configurations. */
static char *
mw_list_joined(const struct mw_config *cfg, const char *section, const char *key)
{
    char **v = mw_config_list(cfg, section, key, NULL);
    struct mw_buf b;

    mw_buf_init(&b);
    for (char **p = v; *p; p++) {
        mw_buf_puts(&b, *p);
        mw_buf_putc(&b, ' ');
    }
    mw_strv_free(&v);
    return mw_buf_steal(&b);
}

/* Keys only a restart applies; say so instead of silently ignoring the change. */
static void
mw_reload_warn_restart(const struct mw_config *old, const struct mw_config *cfg)
{
    char *a = mw_list_joined(old, "milter", "plugins");
    char *b = mw_list_joined(cfg, "milter", "plugins");

    if (strcmp(a, b) != 0)
        mw_log_warn("reload: [milter] plugins changed; restart to load other plugins");
    if (strcmp(mw_config_str(old, "milter", "socket"), mw_config_str(cfg, "milter", "socket")))
        mw_log_warn("reload: [milter] socket changed; restart to listen elsewhere");
    mw_free(&a);
    mw_free(&b);
}

static void
mw_reload(const struct mw_daemon_opts *o)
{
    struct mw_plugins schema = {0};
    struct mw_config *cfg;
    struct mw_milter_settings *set;
    struct mw_err err, err2;

    mw_log_info("reload: reading %s", o->config_path);
    if ((cfg = mw_daemon_config(o, &schema)) == NULL) {
        mw_log_error("reload: %s has errors; keeping the running configuration", o->config_path);
        mw_plugins_close(&schema);
        return;
    }
    if ((set = mw_milter_settings_new(cfg, &err)) == NULL) {
        mw_log_error("reload: %s; keeping the running configuration", err.text);
        goto fail;
    }
    mw_reload_warn_restart(mw_cfg, cfg);
    pthread_rwlock_wrlock(&mw_milter.lock);
    if (mw_plugins_configure(&mw_milter.plugins, cfg, &err) < 0) {
        /* Plugins before the failing one took the new file: give them the old one back. */
        if (mw_plugins_configure(&mw_milter.plugins, mw_cfg, &err2) < 0)
            mw_log_error("reload: restoring the running configuration: %s", err2.text);
        pthread_rwlock_unlock(&mw_milter.lock);
        mw_log_error("reload: %s; keeping the running configuration", err.text);
        mw_milter_settings_free(&set);
        goto fail;
    }
    {
        struct mw_milter_settings *old_set = mw_milter.set;
        struct mw_config *old_cfg = mw_cfg;
        struct mw_plugins old_schema = mw_schema;

        mw_milter.set = set;
        mw_cfg = cfg;
        mw_schema = schema;
        pthread_rwlock_unlock(&mw_milter.lock);
        mw_milter_settings_free(&old_set);
        mw_config_free(&old_cfg);
        mw_plugins_close(&old_schema);
    }
    mw_log_set_debug(o->debug || mw_config_bool(mw_cfg, "general", "debug"));
    mw_log_info("reload: configuration %s in use", o->config_path);
    return;
fail:
    mw_config_free(&cfg);
    mw_plugins_close(&schema);
}

/*
 * The one place the host lends plugins its services. Cache and resolver are
 * opened after detaching (mw_start_process); plugins keep this pointer.
 */
static struct mw_host mw_milter_host = {.program = "mailward-milter"};

/* Load the plugins and the host settings; EX_OK or a sysexits code. */
static int
mw_start_plugins(const struct mw_daemon_opts *o)
{
    char **names = mw_config_list(mw_cfg, "milter", "plugins", NULL);
    const char *dir = mw_config_str(mw_cfg, "general", "plugin_dir");
    struct mw_err err;
    int rc;

    rc = mw_plugins_open(&mw_milter.plugins, dir, names, &err);
    mw_strv_free(&names);
    if (rc < 0) {
        mw_log_error("%s: %s", mw_config_where(mw_cfg, "milter", "plugins"), err.text);
        return EX_CONFIG;
    }
    if ((mw_milter.set = mw_milter_settings_new(mw_cfg, &err)) == NULL) {
        mw_log_error("%s: %s", o->config_path, err.text);
        return EX_CONFIG;
    }
    if (mw_plugins_start(&mw_milter.plugins, &mw_milter_host, mw_cfg, &err) < 0) {
        mw_log_error("%s: %s", o->config_path, err.text);
        return EX_CONFIG;
    }
    mw_milter_stats_init(&mw_milter.plugins);
    return EX_OK;
}

/*
 * Detach, take the pid file, open the cache, resolver and metrics, open the
 * libmilter socket, drop root. The pid
 * file comes first because it is the lock: a second instance must fail
 * before smfi_opensocket() removes the first one's unix socket.
 */
static int
mw_start_process(const struct mw_daemon_opts *o)
{
    const char *sock = mw_config_str(mw_cfg, "milter", "socket");
    const char *pid = mw_config_str(mw_cfg, "milter", "pid_file");
    const char *user = mw_config_str(mw_cfg, "general", "user");
    struct mw_err err;

    /* libmilter drops a connection whose packet exceeds 64 KiB; Postfix sends one header
     * field of up to header_size_limit (100 KiB) in one packet. With 1 MiB the field
     * reaches [milter] max_header_size, which refuses it with a 552 reply instead. */
    smfi_setmaxdatasize(1024 * 1024);
    if (smfi_setconn((char *)sock) != MI_SUCCESS ||
        smfi_settimeout((int)mw_config_int(mw_cfg, "milter", "timeout")) != MI_SUCCESS ||
        smfi_register(mw_milter_desc) != MI_SUCCESS) {
        mw_log_error("libmilter refused the socket %s or the filter description", sock);
        return EX_SOFTWARE;
    }
    if (!o->foreground && mw_daemon_detach(&err) < 0) {
        mw_log_error("%s", err.text);
        return EX_OSERR;
    }
    if (*pid != '\0' && mw_pidfile_open(pid, user, &err) < 0) {
        mw_log_error("%s", err.text);
        return EX_UNAVAILABLE;
    }
    /* Threads (resolver, metrics) only now: they would not survive the fork. */
    if (mw_services_open(&mw_milter_host, mw_cfg, &err) < 0) {
        mw_log_error("%s", err.text);
        return EX_CONFIG;
    }
    if (mw_metrics_start(mw_config_str(mw_cfg, "general", "metrics_listen"),
                         (int)mw_config_int(mw_cfg, "general", "stats_interval"), NULL,
                         &err) < 0) {
        mw_log_error("[general] metrics_listen: %s", err.text);
        return EX_UNAVAILABLE;
    }
    if (smfi_opensocket(1) != MI_SUCCESS) {
        mw_log_error("cannot listen on %s", sock);
        return EX_UNAVAILABLE;
    }
    if (mw_daemon_drop_privileges(user, &err) < 0) {
        mw_log_error("%s", err.text);
        return EX_CONFIG;
    }
    return EX_OK;
}

/* Wait until every connection is done or drain_timeout passes; 1 if drained. */
static int
mw_drain(void)
{
    struct timespec until;
    int drained;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)mw_config_int(mw_cfg, "milter", "drain_timeout");
    pthread_mutex_lock(&mw_milter.conn_lock);
    while (mw_milter.conns > 0 &&
           pthread_cond_timedwait(&mw_milter.conn_idle, &mw_milter.conn_lock, &until) == 0)
        ;
    drained = mw_milter.conns == 0;
    if (!drained)
        mw_log_warn("drain_timeout: exiting with %zu connection%s in progress", mw_milter.conns,
                    mw_milter.conns == 1 ? "" : "s");
    pthread_mutex_unlock(&mw_milter.conn_lock);
    return drained;
}

/* Run until SIGTERM; EX_OK, or EX_SOFTWARE when libmilter stopped by itself. */
static int
mw_serve(const struct mw_daemon_opts *o)
{
    sigset_t sigs;
    struct sigaction sa;
    pthread_t smfi;
    int rc;

    sigemptyset(&sigs);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = mw_on_signal;
    sigemptyset(&sa.sa_mask);
    if (sem_init(&mw_wake, 0, 0) < 0 || sigaction(SIGHUP, &sa, NULL) < 0 ||
        sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
        mw_log_fatal(EX_OSERR, "cannot set up signal handling: %m");
    /* Threads created from now on start with these signals blocked. */
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    if ((rc = pthread_create(&smfi, NULL, mw_smfi_thread, NULL)) != 0)
        mw_log_fatal(EX_OSERR, "cannot start the libmilter thread: %s", strerror(rc));
    pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
    mw_log_info("mailward-milter started, %zu plugin%s, socket %s", mw_milter.plugins.n,
                mw_milter.plugins.n == 1 ? "" : "s", mw_config_str(mw_cfg, "milter", "socket"));
    for (;;) {
        while (sem_wait(&mw_wake) < 0 && errno == EINTR)
            ;
        if (mw_got_term || mw_smfi_done)
            break;
        if (mw_got_hup) {
            mw_got_hup = 0;
            mw_reload(o);
        }
    }
    if (!mw_smfi_done)
        smfi_stop();
    pthread_join(smfi, NULL);
    if (!mw_got_term) {
        mw_log_error("libmilter stopped unexpectedly (smfi_main returned %d)", mw_smfi_rc);
        return EX_SOFTWARE;
    }
    mw_log_info("stopping: waiting for connections in progress");
    if (!mw_drain())
        return -1;
    mw_log_info("stopped");
    return EX_OK;
}

static void
mw_milter_init_locks(void)
{
    pthread_rwlockattr_t attr;

    /* Writer preference: a reload must not starve behind a steady stream of callbacks. */
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&mw_milter.lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    pthread_mutex_init(&mw_milter.conn_lock, NULL);
    pthread_cond_init(&mw_milter.conn_idle, NULL);
}

int
main(int argc, char **argv)
{
    struct mw_daemon_opts o = {.program = "mailward-milter"};
    int rc;

    mw_daemon_args(argc, argv, &o, mw_print_versions);
    mw_log_open(o.program, o.foreground || o.check_only);
    mw_log_set_debug(o.debug);
    if ((mw_cfg = mw_daemon_config(&o, &mw_schema)) == NULL) {
        mw_plugins_close(&mw_schema);
        return EX_CONFIG;
    }
    mw_log_set_debug(o.debug || mw_config_bool(mw_cfg, "general", "debug"));
    mw_milter_init_locks();
    rc = mw_start_plugins(&o);
    if (rc == EX_OK && o.check_only)
        fprintf(stderr, "%s: configuration OK\n", o.config_path);
    if (rc == EX_OK && !o.check_only && (rc = mw_start_process(&o)) == EX_OK)
        rc = mw_serve(&o);
    if (rc < 0) {
        /* Hooks may still run on other threads: exit without tearing them down. */
        mw_pidfile_remove();
        return EX_OK;
    }
    mw_plugins_close(&mw_milter.plugins);
    mw_metrics_stop();
    mw_milter_stats_free();
    mw_services_close(&mw_milter_host);
    mw_metrics_clear();
    mw_milter_settings_free(&mw_milter.set);
    mw_config_free(&mw_cfg);
    mw_plugins_close(&mw_schema);
    mw_pidfile_remove();
    return rc;
}
