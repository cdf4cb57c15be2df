/*
 * fileperm.c - the file permission checks of mw/fileperm.h.
 *
 * Like opendkim's RequireSafeKeys and gpg's homedir check: a key that others
 * can read is no longer secret, and a table others can write decides what
 * the daemon signs or how it delivers. Both are refused, never warned about.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mw/fileperm.h"

/* The run user's uid and gid: run_user, or the effective ids when it is "". */
static void
run_ids(const char *run_user, uid_t *uid, gid_t *gid, int *known)
{
    struct passwd pw, *res = NULL;
    char buf[4096];

    *known = 1;
    if (run_user == NULL || *run_user == '\0') {
        *uid = geteuid();
        *gid = getegid();
        return;
    }
    if (getpwnam_r(run_user, &pw, buf, sizeof(buf), &res) != 0 || res == NULL) {
        *known = 0; /* only root may own the file then */
        *uid = 0;
        *gid = 0;
        return;
    }
    *uid = pw.pw_uid;
    *gid = pw.pw_gid;
}

/* The name of user (or group) id into buf, else "uid N" ("gid N"). */
static const char *
id_name(int group, unsigned long id, char *buf, size_t size)
{
    char tmp[4096];
    const char *name = NULL;

    if (group) {
        struct group gr, *res = NULL;
        if (getgrgid_r((gid_t)id, &gr, tmp, sizeof(tmp), &res) == 0 && res != NULL)
            name = gr.gr_name;
    } else {
        struct passwd pw, *res = NULL;
        if (getpwuid_r((uid_t)id, &pw, tmp, sizeof(tmp), &res) == 0 && res != NULL)
            name = pw.pw_name;
    }
    if (name != NULL)
        snprintf(buf, size, "%s", name);
    else
        snprintf(buf, size, "%s %lu", group ? "gid" : "uid", id);
    return buf;
}

static const char *const kind_what[] = {"secret file", "table", "GnuPG home"};

/* The error: file, kind, mode, owner and group, why, and the fix. */
static int
refuse(const struct stat *st, const char *path, enum mw_fileperm_kind kind, const char *why,
       const char *fix, struct mw_err *err)
{
    char o[64], g[64];

    return mw_err_set(err, "%s: unsafe %s: mode %04o, owner %s, group %s: %s (run \"%s %s\")", path,
                      kind_what[kind], (unsigned int)(st->st_mode & 07777),
                      id_name(0, st->st_uid, o, sizeof(o)), id_name(1, st->st_gid, g, sizeof(g)),
                      why, fix, path);
}

static int
check_secret(const struct stat *st, const char *path, uid_t uid, gid_t gid, int known,
             const char *run_user, struct mw_err *err)
{
    char fix[128];

    if (!S_ISREG(st->st_mode))
        return mw_err_set(err, "%s: not a regular file", path);
    if (st->st_uid != 0 && !(known && st->st_uid == uid)) {
        snprintf(fix, sizeof(fix), "chown %s", *run_user ? run_user : "root");
        return refuse(st, path, MW_FILEPERM_SECRET,
                      "owned by a user other than root or the run user", fix, err);
    }
    if ((st->st_mode & 0007) != 0)
        return refuse(st, path, MW_FILEPERM_SECRET, "others may access it", "chmod 600", err);
    if ((st->st_mode & 0020) != 0)
        return refuse(st, path, MW_FILEPERM_SECRET, "its group may write it", "chmod 600", err);
    if ((st->st_mode & 0040) != 0 && !(known && uid != 0 && st->st_gid == gid))
        return refuse(st, path, MW_FILEPERM_SECRET,
                      "its group, not the run user's own group, may read it", "chmod 600", err);
    return 0;
}

static int
check_table(const struct stat *st, const char *path, gid_t gid, struct mw_err *err)
{
    if (!S_ISREG(st->st_mode))
        return mw_err_set(err, "%s: not a regular file", path);
    if ((st->st_mode & 0002) != 0)
        return refuse(st, path, MW_FILEPERM_TABLE, "anyone may write it", "chmod go-w", err);
    if ((st->st_mode & 0020) != 0 && st->st_gid != 0 && st->st_gid != gid)
        return refuse(st, path, MW_FILEPERM_TABLE,
                      "a group other than root's or the run user's may write it", "chmod g-w", err);
    return 0;
}

static int
check_homedir(const struct stat *st, const char *path, uid_t uid, int known, const char *run_user,
              struct mw_err *err)
{
    char fix[128];

    if (!S_ISDIR(st->st_mode))
        return mw_err_set(err, "%s: not a directory", path);
    if (!known || st->st_uid != uid) {
        snprintf(fix, sizeof(fix), "chown -R %s", *run_user ? run_user : "root");
        return refuse(st, path, MW_FILEPERM_HOMEDIR, "not owned by the run user", fix, err);
    }
    if ((st->st_mode & 0077) != 0)
        return refuse(st, path, MW_FILEPERM_HOMEDIR, "group or others may access it", "chmod 700",
                      err);
    return 0;
}

int
mw_fileperm_stat(const struct stat *st, const char *path, enum mw_fileperm_kind kind,
                 const char *run_user, struct mw_err *err)
{
    uid_t uid;
    gid_t gid;
    int known;

    if (run_user == NULL)
        run_user = "";
    run_ids(run_user, &uid, &gid, &known);
    switch (kind) {
    case MW_FILEPERM_SECRET:
        return check_secret(st, path, uid, gid, known, run_user, err);
    case MW_FILEPERM_TABLE:
        return check_table(st, path, gid, err);
    case MW_FILEPERM_HOMEDIR:
        return check_homedir(st, path, uid, known, run_user, err);
    }
    return mw_err_set(err, "%s: unknown file kind", path);
}

int
mw_fileperm_fd(int fd, const char *path, enum mw_fileperm_kind kind, const char *run_user,
               struct mw_err *err)
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        return mw_err_set(err, "%s: %s", path, strerror(errno));
    return mw_fileperm_stat(&st, path, kind, run_user, err);
}

int
mw_fileperm_path(const char *path, enum mw_fileperm_kind kind, const char *run_user,
                 struct mw_err *err)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return mw_err_set(err, "%s: %s", path, strerror(errno));
    return mw_fileperm_stat(&st, path, kind, run_user, err);
}

int
mw_fileperm_check(const struct mw_config *cfg, const char *path, enum mw_fileperm_kind kind,
                  struct mw_err *err)
{
    return mw_fileperm_path(path, kind, mw_config_str(cfg, "general", "user"), err);
}
