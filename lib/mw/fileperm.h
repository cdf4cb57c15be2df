/*
 * mw/fileperm.h - refuse key, table and key-ring files that others could
 * read or change.
 *
 * Every file a daemon trusts is checked when it is loaded, at start and at
 * each SIGHUP reload (a reload that fails keeps the running configuration):
 *
 *   MW_FILEPERM_SECRET  private keys, passphrase files, the configuration
 *                       file when it holds redis_password. A regular file
 *                       owned by root or the run user; no access at all
 *                       for others; no group write; group read only when
 *                       the group is the run user's own group.
 *   MW_FILEPERM_TABLE   tables and policy files. A regular file not
 *                       writable by others, and group-writable only by
 *                       root's group or the run user's group.
 *   MW_FILEPERM_HOMEDIR a GnuPG home. A directory owned by the run user
 *                       with no access for group or others (gpg's own
 *                       "unsafe permissions on homedir" rule).
 *
 * The run user is [general] user, or the effective user when that is
 * empty. On failure the error names the file, its mode and owner, and the
 * command that fixes it.
 */
#ifndef MW_FILEPERM_H
#define MW_FILEPERM_H

#include <sys/stat.h>

#include "mw/config.h"
#include "mw/err.h"

enum mw_fileperm_kind { MW_FILEPERM_SECRET, MW_FILEPERM_TABLE, MW_FILEPERM_HOMEDIR };

/* Check st (from fstat of the opened path); run_user "" = the effective user. */
int mw_fileperm_stat(const struct stat *st, const char *path, enum mw_fileperm_kind kind,
                     const char *run_user, struct mw_err *err);
/* The same for an opened file descriptor. */
int mw_fileperm_fd(int fd, const char *path, enum mw_fileperm_kind kind, const char *run_user,
                   struct mw_err *err);
/* The same for a path (symbolic links followed; an unreadable path is an error). */
int mw_fileperm_path(const char *path, enum mw_fileperm_kind kind, const char *run_user,
                     struct mw_err *err);
/* mw_fileperm_path with the run user of cfg ([general] user). */
int mw_fileperm_check(const struct mw_config *cfg, const char *path, enum mw_fileperm_kind kind,
                      struct mw_err *err);

#endif
