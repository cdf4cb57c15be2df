/*
 * mw/daemon.h - the process skeleton both daemons share.
 *
 * Command line (-c FILE, -n, -f, -V, -d, -h), configuration loading and
 * validation against the core and every installed plugin's sections, the pid
 * file, detaching, and dropping root after the sockets are bound. Exit codes
 * follow sysexits.h; only main() exits (mw_daemon_args() exits for -V, -h and
 * usage errors, as every Unix tool does).
 */
#ifndef MW_DAEMON_H
#define MW_DAEMON_H

#include "mw/config.h"
#include "mw/err.h"
#include "mw/plugins.h"

struct mw_daemon_opts {
    const char *program;     /* "mailward-milter" */
    const char *config_path; /* -c, default MW_SYSCONFDIR/mailward.conf */
    int config_given;        /* -c was used: a missing file is an error */
    int check_only;          /* -n */
    int foreground;          /* -f */
    int debug;               /* -d */
};

/* Parse argv; prints versions and exits 0 for -V (calling print_versions). */
void mw_daemon_args(int argc, char **argv, struct mw_daemon_opts *o, void (*print_versions)(void));
/*
 * Load and validate the configuration. Every problem is logged as
 * "FILE:LINE: ..."; on failure NULL is returned (exit 78). The modules
 * opened to learn plugin sections are kept in *schema (close after use).
 */
struct mw_config *mw_daemon_config(const struct mw_daemon_opts *o, struct mw_plugins *schema);
/* Print the versions of the libraries every daemon links (libevent, libunbound, ...). */
void mw_daemon_print_lib_versions(void);
/* Create path (and its directory, owned by user) holding our pid, locked; -1 if running. */
int mw_pidfile_open(const char *path, const char *user, struct mw_err *err);
/* Remove the pid file written by mw_pidfile_open (if still ours). */
void mw_pidfile_remove(void);
/* Detach from the terminal (fork, setsid, stdio to /dev/null). */
int mw_daemon_detach(struct mw_err *err);
/* As root: switch to user (uid, gid, supplementary groups); else a no-op. */
int mw_daemon_drop_privileges(const char *user, struct mw_err *err);

#endif
