/*
 * policy.c - the pgp plugin's per-recipient table (see policy.h).
 *
 * The table is small (an administrator's file) and looked up a few times
 * per message: a sorted array of lower-cased keys and binary search. Every
 * byte of the file is distrusted: keys are limited to printable ASCII
 * without blanks, at most 320 bytes; a line at most 1000 bytes.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mw/alloc.h"
#include "policy.h"

#define MW_PGP_LINE_MAX 1000
#define MW_PGP_KEY_MAX 320
#define MW_PGP_FILE_MAX (16 * 1024 * 1024)

struct mw_pgp_rule {
    char *key;
    enum mw_pgp_mode mode;
};

struct mw_pgp_table {
    struct mw_pgp_rule *rules;
    size_t n, cap;
};

static const char *const mw_pgp_modes[] = {"never", "if-key", "always"};

int
mw_pgp_mode_parse(const char *word, enum mw_pgp_mode *mode)
{
    for (size_t i = 0; i < sizeof(mw_pgp_modes) / sizeof(*mw_pgp_modes); i++)
        if (strcmp(word, mw_pgp_modes[i]) == 0) {
            *mode = (enum mw_pgp_mode)i;
            return 0;
        }
    return -1;
}

const char *
mw_pgp_mode_name(enum mw_pgp_mode mode)
{
    return (unsigned)mode < 3 ? mw_pgp_modes[mode] : "?";
}

static int
mw_pgp_rule_cmp(const void *a, const void *b)
{
    return strcmp(((const struct mw_pgp_rule *)a)->key, ((const struct mw_pgp_rule *)b)->key);
}

/* A key: printable ASCII, no blanks; "@" at most once and not first or last. */
static int
mw_pgp_key_ok(const char *k)
{
    const char *at = strchr(k, '@');

    if (*k == '\0' || strlen(k) > MW_PGP_KEY_MAX)
        return 0;
    for (const unsigned char *p = (const unsigned char *)k; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return 0;
    if (at != NULL && (at == k || at[1] == '\0' || strchr(at + 1, '@') != NULL || at[1] == '.'))
        return 0;
    if (strcmp(k, ".") == 0)
        return 0;
    return 1;
}

static void
mw_pgp_table_add(struct mw_pgp_table *t, const char *key, enum mw_pgp_mode mode)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->rules = mw_reallocarray(t->rules, t->cap, sizeof(*t->rules));
    }
    t->rules[t->n].key = mw_strdup(key);
    for (char *p = t->rules[t->n].key; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    t->rules[t->n].mode = mode;
    t->n++;
}

/* One line (NUL-terminated copy): 0, or -1 with err. */
static int
mw_pgp_line(struct mw_pgp_table *t, char *line, const char *name, size_t lineno, struct mw_err *err)
{
    char *save = NULL, *key, *word, *extra;
    enum mw_pgp_mode mode;
    char *hash = strchr(line, '#');

    if (hash != NULL)
        *hash = '\0';
    key = strtok_r(line, " \t\r", &save);
    if (key == NULL)
        return 0;
    word = strtok_r(NULL, " \t\r", &save);
    extra = strtok_r(NULL, " \t\r", &save);
    if (word == NULL || extra != NULL)
        return mw_err_set(err, "%s:%zu: expected \"ADDRESS|DOMAIN|.DOMAIN MODE\"", name, lineno);
    if (!mw_pgp_key_ok(key))
        return mw_err_set(err, "%s:%zu: bad address or domain", name, lineno);
    if (mw_pgp_mode_parse(word, &mode) < 0)
        return mw_err_set(err, "%s:%zu: mode must be never, if-key or always", name, lineno);
    mw_pgp_table_add(t, key, mode);
    return 0;
}

static int
mw_pgp_check_dups(const struct mw_pgp_table *t, const char *name, struct mw_err *err)
{
    for (size_t i = 1; i < t->n; i++)
        if (strcmp(t->rules[i - 1].key, t->rules[i].key) == 0)
            return mw_err_set(err, "%s: \"%s\" is listed twice", name, t->rules[i].key);
    return 0;
}

int
mw_pgp_table_parse(const char *name, const char *text, size_t len, struct mw_pgp_table **tp,
                   struct mw_err *err)
{
    struct mw_pgp_table *t = mw_calloc(1, sizeof(*t));
    char line[MW_PGP_LINE_MAX + 1];
    size_t pos = 0, lineno = 0;

    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

        lineno++;
        if (n > MW_PGP_LINE_MAX || memchr(text + pos, '\0', n) != NULL) {
            mw_pgp_table_free(&t);
            return mw_err_set(err, "%s:%zu: line too long or with a NUL byte", name, lineno);
        }
        memcpy(line, text + pos, n);
        line[n] = '\0';
        pos += n + 1;
        if (mw_pgp_line(t, line, name, lineno, err) < 0) {
            mw_pgp_table_free(&t);
            return -1;
        }
    }
    if (t->n)
        qsort(t->rules, t->n, sizeof(*t->rules), mw_pgp_rule_cmp);
    if (mw_pgp_check_dups(t, name, err) < 0) {
        mw_pgp_table_free(&t);
        return -1;
    }
    *tp = t;
    return 0;
}

int
mw_pgp_table_load(const char *path, struct mw_pgp_table **tp, struct mw_err *err)
{
    FILE *f = fopen(path, "r");
    char *data;
    size_t n;
    int rc;

    if (f == NULL)
        return mw_err_set(err, "%s: %s", path, strerror(errno));
    data = mw_malloc(MW_PGP_FILE_MAX + 1);
    n = fread(data, 1, MW_PGP_FILE_MAX + 1, f);
    if (ferror(f) || n > MW_PGP_FILE_MAX) {
        fclose(f);
        mw_free(&data);
        return mw_err_set(err, "%s: unreadable or larger than %d bytes", path, MW_PGP_FILE_MAX);
    }
    fclose(f);
    rc = mw_pgp_table_parse(path, data, n, tp, err);
    mw_free(&data);
    return rc;
}

static int
mw_pgp_find(const struct mw_pgp_table *t, const char *key)
{
    struct mw_pgp_rule k = {.key = (char *)key};
    const struct mw_pgp_rule *r;

    if (t->n == 0)
        return -1;
    r = bsearch(&k, t->rules, t->n, sizeof(*t->rules), mw_pgp_rule_cmp);
    return r ? (int)r->mode : -1;
}

int
mw_pgp_table_lookup(const struct mw_pgp_table *t, const char *addr)
{
    char key[MW_PGP_KEY_MAX + 2];
    const char *at;
    int mode;

    if (t == NULL || strlen(addr) > MW_PGP_KEY_MAX)
        return -1;
    for (size_t i = 0; (key[i] = (char)tolower((unsigned char)addr[i])) != '\0'; i++)
        ;
    if ((mode = mw_pgp_find(t, key)) >= 0)
        return mode;
    at = strrchr(key, '@');
    if (at == NULL || at[1] == '\0')
        return -1;
    if ((mode = mw_pgp_find(t, at + 1)) >= 0)
        return mode;
    /* ".domain" rules, longest first: ".a.b.c" then ".b.c" then ".c". */
    for (const char *d = strchr(at + 1, '.'); d != NULL; d = strchr(d + 1, '.'))
        if ((mode = mw_pgp_find(t, d)) >= 0)
            return mode;
    return -1;
}

size_t
mw_pgp_table_size(const struct mw_pgp_table *t)
{
    return t ? t->n : 0;
}

void
mw_pgp_table_free(struct mw_pgp_table **tp)
{
    struct mw_pgp_table *t = *tp;

    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++)
        mw_free(&t->rules[i].key);
    mw_free(&t->rules);
    mw_free(tp);
}
