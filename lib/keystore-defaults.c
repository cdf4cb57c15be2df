/*
 * keystore-defaults.c - the keystore's "mailward-defaults" file.
 *
 * SYNOPSIS
 *   mw_keystore_defaults_parse(text, len, fn, arg, err)
 *   mw_keystore_defaults_read(home, map, err)      (keystore-int.h)
 *   mw_keystore_defaults_write(home, map, err)
 *
 * DESCRIPTION
 *   The file names the default (signing) key of each address that has
 *   chosen one, one line each:
 *
 *     # comment
 *     alice@example.com 0123456789ABCDEF0123456789ABCDEF01234567
 *
 *   ADDRESS is a mail address (lower case when written, compared without
 *   regard to case), FPR a full fingerprint of 40 or 64 hex digits, the two
 *   separated by blanks. A later line for the same address wins. Anything
 *   else (NUL bytes, a third field, a short fingerprint, lines longer than
 *   1024 bytes) is an error naming the line: a damaged file must not make
 *   the milter sign with a key nobody chose.
 *
 *   Writing replaces the file through a temporary file in the same
 *   directory, fsync and rename, so a reader sees the old or the new file,
 *   never half of one. Two writers at once: the last rename wins.
 *
 *   The parser is pure (no GPGME), so the fuzzer links it alone.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keystore-int.h"
#include "mw/alloc.h"

#define DEFAULTS_LINE_MAX 1024

int
mw_keystore_address_ok(const char *a, size_t len)
{
    const char *at;

    if (len == 0 || len > 254)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)a[i];
        if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == '\\')
            return 0;
    }
    at = memchr(a, '@', len);
    return at != NULL && at != a && at != a + len - 1 && memchr(at + 1, '@', len - 1 - (size_t)(at - a)) == NULL;
}

int
mw_keystore_fpr_ok(const char *f, size_t len)
{
    if (len != 40 && len != 64)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isxdigit((unsigned char)f[i]))
            return 0;
    return 1;
}

/* Split one line into its two fields; 0 blank/comment, 1 entry, -1 error. */
static int
defaults_line(const char *line, size_t len, char *addr, char *fpr, struct mw_err *err)
{
    size_t i = 0, a0, alen, f0, flen;

    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len || line[i] == '#')
        return 0;
    a0 = i;
    while (i < len && line[i] != ' ' && line[i] != '\t')
        i++;
    alen = i - a0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    f0 = i;
    while (i < len && line[i] != ' ' && line[i] != '\t')
        i++;
    flen = i - f0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i != len)
        return mw_err_set(err, "more than two fields");
    if (!mw_keystore_address_ok(line + a0, alen))
        return mw_err_set(err, "not a mail address");
    if (!mw_keystore_fpr_ok(line + f0, flen))
        return mw_err_set(err, "not a full fingerprint (40 or 64 hex digits)");
    for (size_t k = 0; k < alen; k++)
        addr[k] = (char)tolower((unsigned char)line[a0 + k]);
    addr[alen] = '\0';
    for (size_t k = 0; k < flen; k++)
        fpr[k] = (char)toupper((unsigned char)line[f0 + k]);
    fpr[flen] = '\0';
    return 1;
}

int
mw_keystore_defaults_parse(const char *text, size_t len,
                           int (*fn)(const char *address, const char *fpr, void *arg), void *arg,
                           struct mw_err *err)
{
    char addr[256], fpr[MW_KEYSTORE_FPR_MAX];
    struct mw_err lerr;
    size_t pos = 0;
    unsigned lineno = 0;

    if (memchr(text, '\0', len) != NULL)
        return mw_err_set(err, "NUL byte in the file");
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t llen = nl ? (size_t)(nl - (text + pos)) : len - pos;
        int rc;

        lineno++;
        if (llen > DEFAULTS_LINE_MAX)
            return mw_err_set(err, "line %u: longer than %d bytes", lineno, DEFAULTS_LINE_MAX);
        rc = defaults_line(text + pos, llen, addr, fpr, &lerr);
        if (rc < 0)
            return mw_err_set(err, "line %u: %s", lineno, lerr.text);
        if (rc > 0 && fn(addr, fpr, arg) < 0)
            return mw_err_set(err, "line %u: refused", lineno);
        pos += llen + (nl != NULL);
    }
    return 0;
}

static int
defaults_add(const char *address, const char *fpr, void *arg)
{
    mw_keystore_defaults_set(arg, address, fpr);
    return 0;
}

void
mw_keystore_defaults_set(struct mw_keystore_defaults *map, const char *address, const char *fpr)
{
    for (size_t i = 0; i < map->n; i++) {
        if (strcasecmp(map->entries[i].address, address) != 0)
            continue;
        if (fpr == NULL) {
            mw_free(&map->entries[i].address);
            map->entries[i] = map->entries[--map->n];
        } else {
            snprintf(map->entries[i].fpr, sizeof(map->entries[i].fpr), "%s", fpr);
        }
        return;
    }
    if (fpr == NULL)
        return;
    map->entries = mw_reallocarray(map->entries, map->n + 1, sizeof(*map->entries));
    map->entries[map->n].address = mw_strdup(address);
    for (char *p = map->entries[map->n].address; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    snprintf(map->entries[map->n].fpr, sizeof(map->entries[map->n].fpr), "%s", fpr);
    map->n++;
}

const char *
mw_keystore_defaults_get(const struct mw_keystore_defaults *map, const char *address)
{
    for (size_t i = 0; i < map->n; i++)
        if (strcasecmp(map->entries[i].address, address) == 0)
            return map->entries[i].fpr;
    return NULL;
}

void
mw_keystore_defaults_release(struct mw_keystore_defaults *map)
{
    for (size_t i = 0; i < map->n; i++)
        mw_free(&map->entries[i].address);
    mw_free(&map->entries);
    map->n = 0;
}

int
mw_keystore_defaults_read(const char *home, struct mw_keystore_defaults *map, struct mw_err *err)
{
    char path[MW_KEYSTORE_HOME_MAX + 64];
    char *text;
    struct stat st;
    ssize_t got;
    int fd, rc;

    map->entries = NULL;
    map->n = 0;
    snprintf(path, sizeof(path), "%s/%s", home, MW_KEYSTORE_DEFAULTS_FILE);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
        if (errno == ENOENT)
            return 0;
        return mw_err_set(err, "%s: %s", path, strerror(errno));
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MW_KEYSTORE_DEFAULTS_MAX) {
        close(fd);
        return mw_err_set(err, "%s: not a regular file of at most %d bytes", path,
                          MW_KEYSTORE_DEFAULTS_MAX);
    }
    text = mw_malloc((size_t)st.st_size + 1);
    got = read(fd, text, (size_t)st.st_size + 1);
    close(fd);
    if (got < 0 || got > st.st_size) {
        mw_free(&text);
        return mw_err_set(err, "%s: read failed or the file changed", path);
    }
    rc = mw_keystore_defaults_parse(text, (size_t)got, defaults_add, map, err);
    mw_free(&text);
    if (rc < 0) {
        char msg[MW_ERR_MAX];
        snprintf(msg, sizeof(msg), "%s", err->text);
        mw_keystore_defaults_release(map);
        return mw_err_set(err, "%s: %s", path, msg);
    }
    return 0;
}

int
mw_keystore_defaults_write(const char *home, const struct mw_keystore_defaults *map,
                           struct mw_err *err)
{
    char path[MW_KEYSTORE_HOME_MAX + 64], tmp[MW_KEYSTORE_HOME_MAX + 96];
    struct mw_buf b;
    int fd, ok;

    snprintf(path, sizeof(path), "%s/%s", home, MW_KEYSTORE_DEFAULTS_FILE);
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    mw_buf_init(&b);
    mw_buf_puts(&b, "# mailward: the default signing key of each address (mailwardctl keys default)\n");
    for (size_t i = 0; i < map->n; i++)
        mw_buf_printf(&b, "%s %s\n", map->entries[i].address, map->entries[i].fpr);
    unlink(tmp);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
        mw_buf_release(&b);
        return mw_err_set(err, "%s: %s", tmp, strerror(errno));
    }
    ok = write(fd, b.data, b.len) == (ssize_t)b.len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    mw_buf_release(&b);
    if (!ok || rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return mw_err_set(err, "%s: %s", path, strerror(e));
    }
    return 0;
}
