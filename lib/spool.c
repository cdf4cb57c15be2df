/*
 * spool.c - the append-only byte store that spills to a private temp file
 * (see mw/spool.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mw/alloc.h"
#include "mw/spool.h"

#define MW_SPOOL_CHUNK 65536

int
mw_spool_tmpfile(const char *dir, struct mw_err *err)
{
    int fd;
#ifdef O_TMPFILE
    fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    /* EOPNOTSUPP/EISDIR: a file system or kernel without O_TMPFILE; try a named file. */
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        return mw_err_set(err, "cannot create a temp file in %s: %s", dir, strerror(errno));
#endif
    {
        size_t n = strlen(dir) + sizeof("/mw-spool-XXXXXX");
        char *path = mw_malloc(n);

        snprintf(path, n, "%s/mw-spool-XXXXXX", dir);
        fd = mkostemp(path, O_APPEND | O_CLOEXEC);
        if (fd < 0) {
            mw_err_set(err, "cannot create a temp file in %s: %s", dir, strerror(errno));
            mw_free(&path);
            return -1;
        }
        unlink(path); /* nameless from here on: gone with the descriptor */
        (void)fchmod(fd, 0600);
        mw_free(&path);
    }
    return fd;
}

void
mw_spool_init(struct mw_spool *s, const char *dir, size_t limit)
{
    memset(s, 0, sizeof(*s));
    mw_buf_init(&s->mem);
    s->fd = -1;
    s->limit = limit;
    s->dir = dir != NULL && *dir != '\0' ? mw_strdup(dir) : NULL;
}

void
mw_spool_release(struct mw_spool *s)
{
    mw_buf_release(&s->mem);
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    mw_free(&s->dir);
    s->len = 0;
}

/* Write all of data at the end of the file. */
static int
mw_spool_write(struct mw_spool *s, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(s->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            s->failed = 1;
            return mw_err_set(&s->err, "cannot write the temp file in %s: %s", s->dir,
                              n < 0 ? strerror(errno) : "no progress");
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Move the memory part to a fresh temp file. */
static int
mw_spool_spill(struct mw_spool *s)
{
    if ((s->fd = mw_spool_tmpfile(s->dir, &s->err)) < 0) {
        s->failed = 1;
        return -1;
    }
    if (mw_spool_write(s, s->mem.data, s->mem.len) < 0)
        return -1;
    mw_buf_release(&s->mem);
    mw_buf_init(&s->mem);
    return 0;
}

int
mw_spool_append(struct mw_spool *s, const void *data, size_t len)
{
    if (s->failed)
        return -1;
    if (s->fd < 0 && s->dir != NULL && s->len + len > s->limit && mw_spool_spill(s) < 0)
        return -1;
    if (s->fd < 0)
        mw_buf_append(&s->mem, data, len);
    else if (mw_spool_write(s, data, len) < 0)
        return -1;
    s->len += len;
    return 0;
}

int
mw_spool_file(struct mw_spool *s)
{
    if (s->failed)
        return -1;
    if (s->dir == NULL) {
        s->failed = 1;
        return mw_err_set(&s->err, "no temp directory to spill to");
    }
    if (s->fd < 0 && mw_spool_spill(s) < 0)
        return -1;
    return s->fd;
}

int
mw_spool_sync(struct mw_spool *s)
{
    struct stat st;

    if (s->failed)
        return -1;
    if (s->fd >= 0) {
        if (fstat(s->fd, &st) < 0) {
            s->failed = 1;
            return mw_err_set(&s->err, "cannot stat the temp file: %s", strerror(errno));
        }
        s->len = (size_t)st.st_size;
    }
    return 0;
}

void
mw_spool_fail(struct mw_spool *s, const char *why)
{
    if (!s->failed)
        mw_err_set(&s->err, "%s", why);
    s->failed = 1;
}

const char *
mw_spool_error(const struct mw_spool *s)
{
    return s->failed ? s->err.text : NULL;
}

size_t
mw_spool_len(const struct mw_spool *s)
{
    return s->len;
}

const char *
mw_spool_mem(const struct mw_spool *s)
{
    return s->fd < 0 ? s->mem.data : NULL;
}

int
mw_spool_fd(const struct mw_spool *s)
{
    return s->fd;
}

ssize_t
mw_spool_read(const struct mw_spool *s, size_t off, void *buf, size_t n)
{
    ssize_t r;

    if (off >= s->len)
        return 0;
    if (n > s->len - off)
        n = s->len - off;
    if (s->fd < 0) {
        memcpy(buf, s->mem.data + off, n);
        return (ssize_t)n;
    }
    do
        r = pread(s->fd, buf, n, (off_t)off);
    while (r < 0 && errno == EINTR);
    return r;
}

int
mw_spool_copy(struct mw_spool *dst, const struct mw_spool *src)
{
    char *chunk;
    size_t off = 0;
    int rc = 0;

    if (src->fd < 0)
        return mw_spool_append(dst, src->mem.data, src->len);
    chunk = mw_malloc(MW_SPOOL_CHUNK);
    while (rc == 0 && off < src->len) {
        ssize_t n = mw_spool_read(src, off, chunk, MW_SPOOL_CHUNK);
        if (n <= 0) {
            dst->failed = 1;
            rc = mw_err_set(&dst->err, "cannot read the temp file: %s",
                            n < 0 ? strerror(errno) : "short file");
            break;
        }
        rc = mw_spool_append(dst, chunk, (size_t)n);
        off += (size_t)n;
    }
    mw_free(&chunk);
    return rc;
}

int
mw_spool_load(const struct mw_spool *s, struct mw_buf *out, struct mw_err *err)
{
    char *chunk;
    size_t off = 0;

    if (s->fd < 0) {
        mw_buf_append(out, s->mem.data, s->len);
        return 0;
    }
    chunk = mw_malloc(MW_SPOOL_CHUNK);
    while (off < s->len) {
        ssize_t n = mw_spool_read(s, off, chunk, MW_SPOOL_CHUNK);
        if (n <= 0) {
            mw_free(&chunk);
            return mw_err_set(err, "cannot read the temp file: %s",
                              n < 0 ? strerror(errno) : "short file");
        }
        mw_buf_append(out, chunk, (size_t)n);
        off += (size_t)n;
    }
    mw_free(&chunk);
    return 0;
}
