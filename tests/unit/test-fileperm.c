/*
 * test-fileperm.c - unit tests of lib/fileperm.c: the mode, owner and group
 * rules of secret files, tables and GnuPG homes, on struct stat values (so
 * any owner can be tried without root), plus the fd and path forms on real
 * files.
 */
#include "config.h"

#include <fcntl.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mw/fileperm.h"

static struct stat
st_of(mode_t type, mode_t perm, uid_t uid, gid_t gid)
{
    struct stat st;

    memset(&st, 0, sizeof(st));
    st.st_mode = type | perm;
    st.st_uid = uid;
    st.st_gid = gid;
    return st;
}

/* 0 or -1 of mw_fileperm_stat, run user "" (the effective user). */
static int
check(mode_t type, mode_t perm, uid_t uid, gid_t gid, enum mw_fileperm_kind kind,
      struct mw_err *err)
{
    struct stat st = st_of(type, perm, uid, gid);

    err->text[0] = '\0';
    return mw_fileperm_stat(&st, "/k", kind, "", err);
}

static void
test_secret(void **state)
{
    struct mw_err err;
    uid_t me = geteuid();
    gid_t mg = getegid();

    (void)state;
    assert_int_equal(check(S_IFREG, 0600, 0, 0, MW_FILEPERM_SECRET, &err), 0);
    assert_int_equal(check(S_IFREG, 0400, me, mg, MW_FILEPERM_SECRET, &err), 0);
    assert_int_equal(check(S_IFREG, 0644, 0, 0, MW_FILEPERM_SECRET, &err), -1);
    assert_non_null(strstr(err.text, "/k: unsafe secret file: mode 0644"));
    assert_non_null(strstr(err.text, "(run \"chmod 600 /k\")"));
    assert_int_equal(check(S_IFREG, 0604, 0, 0, MW_FILEPERM_SECRET, &err), -1);
    assert_int_equal(check(S_IFREG, 0620, 0, 0, MW_FILEPERM_SECRET, &err), -1);
    assert_non_null(strstr(err.text, "its group may write it"));
    /* Group read: only the run user's own group, and never for a root run user. */
    assert_int_equal(check(S_IFREG, 0640, 0, 12345, MW_FILEPERM_SECRET, &err), -1);
    assert_int_equal(check(S_IFREG, 0600, 54321, 0, MW_FILEPERM_SECRET, &err),
                     me == 54321 ? 0 : -1);
    if (me != 54321)
        assert_non_null(strstr(err.text, "owned by a user other than root or the run user"));
    assert_int_equal(check(S_IFDIR, 0700, 0, 0, MW_FILEPERM_SECRET, &err), -1);
    assert_non_null(strstr(err.text, "not a regular file"));
}

static void
test_secret_run_user(void **state)
{
    struct passwd *pw = getpwnam("mailward");
    struct stat st;
    struct mw_err err;

    (void)state;
    if (pw == NULL)
        skip();
    st = st_of(S_IFREG, 0600, pw->pw_uid, pw->pw_gid);
    assert_int_equal(mw_fileperm_stat(&st, "/k", MW_FILEPERM_SECRET, "mailward", &err), 0);
    st = st_of(S_IFREG, 0640, 0, pw->pw_gid); /* root:mailward 0640 */
    assert_int_equal(mw_fileperm_stat(&st, "/k", MW_FILEPERM_SECRET, "mailward", &err), 0);
    st = st_of(S_IFREG, 0640, 0, 0);
    assert_int_equal(mw_fileperm_stat(&st, "/k", MW_FILEPERM_SECRET, "mailward", &err), -1);
    st = st_of(S_IFREG, 0600, pw->pw_uid + 1, 0);
    assert_int_equal(mw_fileperm_stat(&st, "/k", MW_FILEPERM_SECRET, "mailward", &err), -1);
    assert_non_null(strstr(err.text, "chown mailward /k"));
    /* An unknown run user: only root may own a secret file. */
    st = st_of(S_IFREG, 0600, 0, 0);
    assert_int_equal(mw_fileperm_stat(&st, "/k", MW_FILEPERM_SECRET, "no-such-user-xq", &err), 0);
    st = st_of(S_IFREG, 0600, pw->pw_uid, 0);
    assert_int_equal(mw_fileperm_stat(&st, "/k", MW_FILEPERM_SECRET, "no-such-user-xq", &err), -1);
}

static void
test_table(void **state)
{
    struct mw_err err;

    (void)state;
    assert_int_equal(check(S_IFREG, 0644, 0, 0, MW_FILEPERM_TABLE, &err), 0);
    assert_int_equal(check(S_IFREG, 0664, 0, 0, MW_FILEPERM_TABLE, &err), 0);
    assert_int_equal(check(S_IFREG, 0664, 0, getegid(), MW_FILEPERM_TABLE, &err), 0);
    assert_int_equal(check(S_IFREG, 0666, 0, 0, MW_FILEPERM_TABLE, &err), -1);
    assert_non_null(strstr(err.text, "/k: unsafe table: mode 0666"));
    assert_non_null(strstr(err.text, "(run \"chmod go-w /k\")"));
    if (getegid() != 12345) {
        assert_int_equal(check(S_IFREG, 0664, 0, 12345, MW_FILEPERM_TABLE, &err), -1);
        assert_non_null(strstr(err.text, "chmod g-w"));
    }
    assert_int_equal(check(S_IFDIR, 0755, 0, 0, MW_FILEPERM_TABLE, &err), -1);
}

static void
test_homedir(void **state)
{
    struct mw_err err;
    uid_t me = geteuid();

    (void)state;
    assert_int_equal(check(S_IFDIR, 0700, me, 0, MW_FILEPERM_HOMEDIR, &err), 0);
    assert_int_equal(check(S_IFDIR, 0777, me, 0, MW_FILEPERM_HOMEDIR, &err), -1);
    assert_non_null(strstr(err.text, "(run \"chmod 700 /k\")"));
    assert_int_equal(check(S_IFDIR, 0750, me, 0, MW_FILEPERM_HOMEDIR, &err), -1);
    assert_int_equal(check(S_IFDIR, 0700, me + 1, 0, MW_FILEPERM_HOMEDIR, &err), -1);
    assert_non_null(strstr(err.text, "not owned by the run user"));
    assert_int_equal(check(S_IFREG, 0700, me, 0, MW_FILEPERM_HOMEDIR, &err), -1);
    assert_non_null(strstr(err.text, "not a directory"));
}

static void
test_fd_and_path(void **state)
{
    char path[] = "/tmp/mw-fileperm-XXXXXX";
    struct mw_err err;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(fchmod(fd, 0600), 0);
    assert_int_equal(mw_fileperm_fd(fd, path, MW_FILEPERM_SECRET, "", &err), 0);
    assert_int_equal(mw_fileperm_path(path, MW_FILEPERM_SECRET, "", &err), 0);
    assert_int_equal(fchmod(fd, 0644), 0);
    assert_int_equal(mw_fileperm_fd(fd, path, MW_FILEPERM_SECRET, "", &err), -1);
    assert_non_null(strstr(err.text, path));
    assert_int_equal(mw_fileperm_path(path, MW_FILEPERM_TABLE, "", &err), 0);
    close(fd);
    unlink(path);
    assert_int_equal(mw_fileperm_path(path, MW_FILEPERM_TABLE, "", &err), -1);
    assert_non_null(strstr(err.text, "No such file"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secret),      cmocka_unit_test(test_secret_run_user),
        cmocka_unit_test(test_table),       cmocka_unit_test(test_homedir),
        cmocka_unit_test(test_fd_and_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
