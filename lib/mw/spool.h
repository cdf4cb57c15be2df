/*
 * mw/spool.h - an append-only byte store that spills to a private temp file.
 *
 * A plugin that must hold a whole message (pgp, tlsrpt) collects it in a
 * struct mw_spool: up to limit bytes stay in memory; the append that would
 * pass the limit moves everything to an anonymous file in dir, opened with
 * O_TMPFILE (no name ever exists; mkstemp() and an immediate unlink() where
 * the file system has no O_TMPFILE), mode 0600, O_APPEND. The file goes away with the
 * descriptor. A failed write (disk full, EIO) is sticky: every later append
 * fails too, so the caller only checks once at end of message and refuses
 * the message (tempfail), never passes it on incomplete.
 *
 * Not thread-safe; a spool belongs to one message (one thread) at a time.
 */
#ifndef MW_SPOOL_H
#define MW_SPOOL_H

#include <stddef.h>
#include <sys/types.h>

#include "mw/buf.h"
#include "mw/err.h"

struct mw_spool {
    struct mw_buf mem; /* the data while fd < 0 */
    int fd;            /* the temp file once spilled, else -1 */
    size_t len;        /* bytes appended */
    size_t limit;      /* bytes kept in memory at most */
    char *dir;         /* where to spill; NULL: never (memory only) */
    struct mw_err err; /* the first failure */
    int failed;
};

/* (Check the directory with mw_fileperm_check(MW_FILEPERM_HOMEDIR): private to the run user.) */
/* An anonymous read-write file in dir, mode 0600, no name left behind; -1 and err on failure. */
int mw_spool_tmpfile(const char *dir, struct mw_err *err);

/* An empty spool; dir NULL or "": memory only. */
void mw_spool_init(struct mw_spool *s, const char *dir, size_t limit);
void mw_spool_release(struct mw_spool *s);
/* Append len bytes; -1 (and every later call) after a failure, see mw_spool_error(). */
int mw_spool_append(struct mw_spool *s, const void *data, size_t len);
/*
 * For a writer that appends to the file itself (GMime's fs stream on a
 * dup()): move to the temp file now and return it (opened O_APPEND); -1
 * without a dir or after a failure. mw_spool_sync() afterwards takes the
 * file's size as the length; mw_spool_fail() records the writer's failure.
 */
int mw_spool_file(struct mw_spool *s);
int mw_spool_sync(struct mw_spool *s);
void mw_spool_fail(struct mw_spool *s, const char *why);
/* The failure that made appends fail, NULL when none. */
const char *mw_spool_error(const struct mw_spool *s);
size_t mw_spool_len(const struct mw_spool *s);
/* The data when held in memory (NUL-terminated), NULL once spilled. */
const char *mw_spool_mem(const struct mw_spool *s);
/* The temp file (read with pread; do not close), -1 while in memory. */
int mw_spool_fd(const struct mw_spool *s);
/* Up to n bytes at off into buf: bytes read, 0 at the end, -1 on a read error. */
ssize_t mw_spool_read(const struct mw_spool *s, size_t off, void *buf, size_t n);
/* Append all of src to dst (chunk by chunk, never the whole in memory); -1 as mw_spool_append. */
int mw_spool_copy(struct mw_spool *dst, const struct mw_spool *src);
/* The whole content into out (for the paths that need it all in memory); -1 and err on failure. */
int mw_spool_load(const struct mw_spool *s, struct mw_buf *out, struct mw_err *err);

#endif
