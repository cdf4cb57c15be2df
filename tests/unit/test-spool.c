/*
 * test-spool.c - unit tests of the spilling byte store (lib/spool.c): data
 * below and above the memory limit, the temp file nameless (O_TMPFILE or
 * unlinked) and mode 0600, a failed write (RLIMIT_FSIZE) sticky, a writer
 * on the file itself.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mw/buf.h"
#include "mw/spool.h"

static char dir[] = "/tmp/mw-test-spool-XXXXXX";

static int
setup(void **state)
{
    (void)state;
    return mkdtemp(dir) == NULL ? -1 : 0; /* mode 0700, ours */
}

static int
teardown(void **state)
{
    (void)state;
    return rmdir(dir);
}

/* Entries of dir other than . and .. */
static int
dir_entries(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* The whole content, read back through mw_spool_read in odd-sized pieces. */
static void
assert_content(const struct mw_spool *s, const char *want, size_t len)
{
    char piece[777];
    size_t off = 0;
    ssize_t n;

    assert_int_equal(mw_spool_len(s), len);
    while ((n = mw_spool_read(s, off, piece, sizeof(piece))) > 0) {
        assert_memory_equal(piece, want + off, (size_t)n);
        off += (size_t)n;
    }
    assert_int_equal(n, 0);
    assert_int_equal(off, len);
}

static void
test_below_limit(void **state)
{
    struct mw_spool s;

    (void)state;
    mw_spool_init(&s, dir, 100);
    assert_int_equal(mw_spool_append(&s, "hello ", 6), 0);
    assert_int_equal(mw_spool_append(&s, "world", 5), 0);
    assert_int_equal(mw_spool_fd(&s), -1);
    assert_string_equal(mw_spool_mem(&s), "hello world");
    assert_content(&s, "hello world", 11);
    assert_null(mw_spool_error(&s));
    mw_spool_release(&s);
}

static void
test_above_limit(void **state)
{
    struct mw_spool s, copy;
    struct mw_buf all;
    struct stat st;
    size_t len = 300000;
    char *want = malloc(len);

    (void)state;
    for (size_t i = 0; i < len; i++)
        want[i] = (char)(i * 7 + i / 251);
    mw_spool_init(&s, dir, 1000);
    for (size_t off = 0; off < len; off += 999)
        assert_int_equal(mw_spool_append(&s, want + off, len - off < 999 ? len - off : 999), 0);
    assert_true(mw_spool_fd(&s) >= 0);
    assert_null(mw_spool_mem(&s));
    assert_content(&s, want, len);
    /* Nameless, private, exactly the data. */
    assert_int_equal(dir_entries(), 0);
    assert_int_equal(fstat(mw_spool_fd(&s), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_nlink, 0);
    assert_int_equal((size_t)st.st_size, len);
    /* Copy into another spool, and load into memory. */
    mw_spool_init(&copy, dir, 1000);
    assert_int_equal(mw_spool_copy(&copy, &s), 0);
    assert_content(&copy, want, len);
    mw_buf_init(&all);
    assert_int_equal(mw_spool_load(&copy, &all, NULL), 0);
    assert_int_equal(all.len, len);
    assert_memory_equal(all.data, want, len);
    mw_buf_release(&all);
    mw_spool_release(&copy);
    mw_spool_release(&s);
    assert_int_equal(dir_entries(), 0);
    free(want);
}

/* A writer on the file itself (as GMime's fs stream): appended after the memory part. */
static void
test_direct_writer(void **state)
{
    struct mw_spool s;
    int fd;

    (void)state;
    mw_spool_init(&s, dir, 1000);
    assert_int_equal(mw_spool_append(&s, "head:", 5), 0);
    fd = mw_spool_file(&s);
    assert_true(fd >= 0);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0); /* O_APPEND: still written at the end */
    assert_int_equal(write(fd, "body", 4), 4);
    assert_int_equal(mw_spool_sync(&s), 0);
    assert_content(&s, "head:body", 9);
    mw_spool_fail(&s, "the writer failed");
    assert_string_equal(mw_spool_error(&s), "the writer failed");
    assert_int_equal(mw_spool_file(&s), -1);
    mw_spool_release(&s);
    mw_spool_init(&s, NULL, 1000); /* no dir: no file */
    assert_int_equal(mw_spool_file(&s), -1);
    mw_spool_release(&s);
}

/* Memory only (no dir): never spills. */
static void
test_memory_only(void **state)
{
    struct mw_spool s;
    char block[4096];

    (void)state;
    memset(block, 'x', sizeof(block));
    mw_spool_init(&s, "", 10);
    for (int i = 0; i < 10; i++)
        assert_int_equal(mw_spool_append(&s, block, sizeof(block)), 0);
    assert_int_equal(mw_spool_fd(&s), -1);
    assert_int_equal(mw_spool_len(&s), 40960);
    mw_spool_release(&s);
}

/* A write the file size limit refuses (EFBIG, as a full disk would): -1, sticky, reason kept. */
static void
test_write_failure(void **state)
{
    struct mw_spool s;
    struct rlimit old, lim;
    char block[8192];

    (void)state;
    memset(block, 'y', sizeof(block));
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 20000;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    mw_spool_init(&s, dir, 100);
    assert_int_equal(mw_spool_append(&s, block, sizeof(block)), 0);
    assert_int_equal(mw_spool_append(&s, block, sizeof(block)), 0);
    assert_int_equal(mw_spool_append(&s, block, sizeof(block)), -1);
    assert_non_null(mw_spool_error(&s));
    assert_non_null(strstr(mw_spool_error(&s), "cannot write the temp file"));
    assert_int_equal(mw_spool_append(&s, "z", 1), -1);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    assert_int_equal(mw_spool_append(&s, "z", 1), -1); /* still failed */
    mw_spool_release(&s);
    signal(SIGXFSZ, SIG_DFL);
}

/* A directory that cannot hold the file: the spill fails with the reason. */
static void
test_missing_dir(void **state)
{
    struct mw_spool s;
    char block[256] = {0};

    (void)state;
    mw_spool_init(&s, "/nonexistent/mw-spool", 100);
    assert_int_equal(mw_spool_append(&s, block, 50), 0);
    assert_int_equal(mw_spool_append(&s, block, sizeof(block)), -1);
    assert_non_null(strstr(mw_spool_error(&s), "/nonexistent/mw-spool"));
    mw_spool_release(&s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_below_limit), cmocka_unit_test(test_above_limit),
        cmocka_unit_test(test_memory_only), cmocka_unit_test(test_write_failure),
        cmocka_unit_test(test_missing_dir), cmocka_unit_test(test_direct_writer),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
