/*
 * daemon.c - the process skeleton both daemons share (see mw/daemon.h).
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <grp.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unbound.h>
#include <unistd.h>

#include "mw/alloc.h"
#include "mw/daemon.h"
#include "mw/fileperm.h"
#include "mw/log.h"

static char *pidfile_path;
static int pidfile_fd = -1;

static void
mw_daemon_usage(const char *program)
{
    fprintf(stderr,
            "usage: %s [-c FILE] [-n] [-f] [-d] [-V]\n"
            "  -c FILE  configuration file (default %s/mailward.conf)\n"
            "  -n       check the configuration and the files it names, then exit\n"
            "  -f       stay in the foreground and log to stderr too\n"
            "  -d       log debug lines\n"
            "  -V       print versions and exit\n",
            program, MW_SYSCONFDIR);
}

void
mw_daemon_args(int argc, char **argv, struct mw_daemon_opts *o, void (*print_versions)(void))
{
    int c;

    o->config_path = MW_SYSCONFDIR "/mailward.conf";
    while ((c = getopt(argc, argv, "c:nfdVh")) != -1) {
        switch (c) {
        case 'c':
            o->config_path = optarg;
            o->config_given = 1;
            break;
        case 'n':
            o->check_only = 1;
            break;
        case 'f':
            o->foreground = 1;
            break;
        case 'd':
            o->debug = 1;
            break;
        case 'V':
            printf("%s %s\n", o->program, PACKAGE_VERSION);
            print_versions();
            exit(EX_OK);
        case 'h':
            mw_daemon_usage(o->program);
            exit(EX_OK);
        default:
            mw_daemon_usage(o->program);
            exit(EX_USAGE);
        }
    }
    if (optind != argc) {
        mw_daemon_usage(o->program);
        exit(EX_USAGE);
    }
}

void
mw_daemon_print_lib_versions(void)
{
    printf("libevent %s\n", event_get_version());
    printf("libunbound %s\n", ub_version());
    printf("hiredis %d.%d.%d\n", HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);
}

struct mw_config *
mw_daemon_config(const struct mw_daemon_opts *o, struct mw_plugins *schema)
{
    struct mw_config *cfg;
    const struct mw_cfg_section **sections;
    const char *dir;
    struct mw_err err;
    int problems;
    size_t n;

    cfg = mw_config_load(o->config_path, !o->config_given, &err);
    if (cfg == NULL) {
        mw_log_error("%s", err.text);
        return NULL;
    }
    /* plugin_dir decides which plugin sections exist, so read it before validating. */
    dir = mw_config_raw(cfg, "general", "plugin_dir");
    n = mw_plugins_schema(dir ? dir : MW_PLUGIN_DIR, schema, &sections);
    problems = mw_config_validate(cfg, sections, n);
    mw_free(&sections);
    if (problems != 0) {
        mw_log_error("%s: %d configuration problem%s", o->config_path, problems,
                     problems == 1 ? "" : "s");
        mw_config_free(&cfg);
        return NULL;
    }
    /* A file holding a password is a secret file (mw/fileperm.h). */
    if (*mw_config_str(cfg, "cache", "redis_password") != '\0' &&
        mw_fileperm_check(cfg, o->config_path, MW_FILEPERM_SECRET, &err) < 0) {
        mw_log_error("%s: it holds [cache] redis_password", err.text);
        mw_config_free(&cfg);
        return NULL;
    }
    return cfg;
}

static int
mw_pidfile_dir(const char *path, const char *user, struct mw_err *err)
{
    char dir[PATH_MAX];
    char *slash;
    struct passwd *pw;

    if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
        return mw_err_set(err, "pid file name too long: %s", path);
    if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
        return 0;
    *slash = '\0';
    if (mkdir(dir, 0755) < 0) {
        if (errno == EEXIST)
            return 0;
        return mw_err_set(err, "cannot create %s: %s", dir, strerror(errno));
    }
    if (geteuid() == 0 && user != NULL && *user && (pw = getpwnam(user)) != NULL &&
        chown(dir, pw->pw_uid, pw->pw_gid) < 0)
        return mw_err_set(err, "cannot chown %s: %s", dir, strerror(errno));
    return 0;
}

int
mw_pidfile_open(const char *path, const char *user, struct mw_err *err)
{
    char line[32];
    int fd, len;

    if (mw_pidfile_dir(path, user, err) < 0)
        return -1;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return mw_err_set(err, "cannot open pid file %s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        return mw_err_set(err, "%s is locked: another instance is running", path);
    }
    len = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || write(fd, line, (size_t)len) != len) {
        close(fd);
        return mw_err_set(err, "cannot write pid file %s: %s", path, strerror(errno));
    }
    pidfile_fd = fd;
    pidfile_path = mw_strdup(path);
    return 0;
}

void
mw_pidfile_remove(void)
{
    if (pidfile_path == NULL)
        return;
    if (unlink(pidfile_path) < 0 && ftruncate(pidfile_fd, 0) < 0)
        mw_log_warn("cannot remove pid file %s: %m", pidfile_path);
    close(pidfile_fd);
    pidfile_fd = -1;
    mw_free(&pidfile_path);
}

int
mw_daemon_detach(struct mw_err *err)
{
    int fd;

    switch (fork()) {
    case -1:
        return mw_err_set(err, "fork: %s", strerror(errno));
    case 0:
        break;
    default:
        _exit(EX_OK);
    }
    if (setsid() < 0)
        return mw_err_set(err, "setsid: %s", strerror(errno));
    if ((fd = open("/dev/null", O_RDWR)) < 0)
        return mw_err_set(err, "/dev/null: %s", strerror(errno));
    dup2(fd, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    if (fd > 2)
        close(fd);
    return 0;
}

int
mw_daemon_drop_privileges(const char *user, struct mw_err *err)
{
    struct passwd *pw;

    if (geteuid() != 0)
        return 0;
    if (user == NULL || *user == '\0') {
        mw_log_warn("[general] user is empty: running as root");
        return 0;
    }
    if ((pw = getpwnam(user)) == NULL)
        return mw_err_set(err, "[general] user %s: no such user", user);
    if (pidfile_fd >= 0 && fchown(pidfile_fd, pw->pw_uid, pw->pw_gid) < 0)
        mw_log_warn("cannot chown pid file: %m");
    if (initgroups(user, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
        return mw_err_set(err, "cannot switch to user %s: %s", user, strerror(errno));
    if (setuid(0) == 0)
        return mw_err_set(err, "still able to regain root after switching to %s", user);
    mw_log_info("running as user %s (uid %ld)", user, (long)pw->pw_uid);
    return 0;
}
