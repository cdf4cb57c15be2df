/*
 * table.c - the tls-rules table and domain lists (see table.h).
 *
 * Both are a sorted array of canonical keys ("example.net" for an exact
 * entry, ".example.net" for a parent entry) searched with bsearch: a lookup
 * costs one search for the exact key and one per label for the parents,
 * longest first, so precedence falls out of the search order. Duplicates are
 * found after sorting, where they are neighbours.
 *
 * The parser distrusts its input: it works on explicit lengths (a NUL byte is
 * an error, not an end), bounds each line, and fails closed on anything it
 * does not understand, naming the line.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mw/alloc.h"
#include "mw/buf.h"
#include "mw/policy-host.h"
#include "table.h"

struct mw_dtab_entry {
    char *key;    /* canonical, "." prefix for parent entries */
    char *value;  /* policy text; NULL in domain lists */
    int override; /* the rule beats published policies */
    unsigned long line;
};

struct mw_dtab {
    struct mw_dtab_entry *v;
    size_t n, cap;
};

struct mw_tlsrules {
    struct mw_dtab tab;
};

struct mw_tlsrules_domains {
    struct mw_dtab tab;
};

static const char *const mw_tls_levels[] = {
    "none", "may", "encrypt", "dane", "dane-only", "fingerprint", "verify", "secure", NULL,
};

static const char *const mw_tls_attrs[] = {
    "ciphers",          "exclude",    "match",      "protocols", "tafile",
    "connection_reuse", "servername", "enable_rpk", NULL,
};

static int
mw_word_in(const char *w, size_t len, const char *const *set)
{
    for (; *set; set++)
        if (strlen(*set) == len && memcmp(*set, w, len) == 0)
            return 1;
    return 0;
}

static void
mw_dtab_release(struct mw_dtab *t)
{
    for (size_t i = 0; i < t->n; i++) {
        mw_free(&t->v[i].key);
        mw_free(&t->v[i].value);
    }
    mw_free(&t->v);
    t->n = t->cap = 0;
}

static struct mw_dtab_entry *
mw_dtab_push(struct mw_dtab *t, char *key, char *value, unsigned long line)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->v = mw_reallocarray(t->v, t->cap, sizeof(*t->v));
    }
    t->v[t->n].key = key;
    t->v[t->n].value = value;
    t->v[t->n].override = 0;
    t->v[t->n].line = line;
    return &t->v[t->n++];
}

static int
mw_dtab_cmp(const void *a, const void *b)
{
    const struct mw_dtab_entry *x = a, *y = b;
    int c = strcmp(x->key, y->key);

    if (c != 0)
        return c;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* Sort; a duplicate key is an error naming both lines. */
static int
mw_dtab_finish(struct mw_dtab *t, const char *name, struct mw_err *err)
{
    if (t->n > 0)
        qsort(t->v, t->n, sizeof(*t->v), mw_dtab_cmp);
    for (size_t i = 1; i < t->n; i++)
        if (strcmp(t->v[i - 1].key, t->v[i].key) == 0)
            return mw_err_set(err, "%s:%lu: duplicate domain %s (first at line %lu)", name,
                              t->v[i].line, t->v[i].key, t->v[i - 1].line);
    return 0;
}

static int
mw_dtab_key_cmp(const void *key, const void *entry)
{
    return strcmp(key, ((const struct mw_dtab_entry *)entry)->key);
}

static const struct mw_dtab_entry *
mw_dtab_find(const struct mw_dtab *t, const char *key)
{
    if (t->n == 0)
        return NULL;
    return bsearch(key, t->v, t->n, sizeof(*t->v), mw_dtab_key_cmp);
}

/*
 * The entry covering domain: the exact key unless is_parent, then the parent
 * keys from the longest (".domain" itself only for a parent question) down.
 */
static const struct mw_dtab_entry *
mw_dtab_lookup(const struct mw_dtab *t, const char *domain, int is_parent)
{
    char key[MW_DOMAIN_MAX + 2];
    const struct mw_dtab_entry *e;
    const char *s = domain;
    size_t len = strlen(domain);

    if (len > MW_DOMAIN_MAX)
        return NULL;
    if (!is_parent) {
        if ((e = mw_dtab_find(t, domain)) != NULL)
            return e;
        if ((s = strchr(domain, '.')) == NULL)
            return NULL;
        s++;
    }
    for (;;) {
        key[0] = '.';
        memcpy(key + 1, s, strlen(s) + 1);
        if ((e = mw_dtab_find(t, key)) != NULL)
            return e;
        if ((s = strchr(s, '.')) == NULL)
            return NULL;
        s++;
    }
}

/* A table or list domain: "example.net" or ".example.net"; returns the canonical key. */
static char *
mw_tlsrules_key(const char *w, size_t len, struct mw_err *err)
{
    char dom[MW_DOMAIN_MAX + 1];
    int parent = len > 0 && w[0] == '.';
    struct mw_buf b;

    if (mw_policy_domain_parse(w + parent, len - (size_t)parent, dom, err) < 0)
        return NULL;
    mw_buf_init(&b);
    mw_buf_printf(&b, "%s%s", parent ? "." : "", dom);
    return mw_buf_steal(&b);
}

/* Next blank-separated word of line[*pos..len); 0 when there is none. */
static int
mw_next_word(const char *line, size_t len, size_t *pos, const char **w, size_t *wlen)
{
    size_t i = *pos, start;

    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
        i++;
    start = i;
    while (i < len && line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
        i++;
    *pos = i;
    *w = line + start;
    *wlen = i - start;
    return *wlen > 0;
}

/*
 * The words after the domain: an optional "override", then the policy,
 * checked and joined with single blanks.
 */
static int
mw_tlsrules_policy(const char *line, size_t len, size_t pos, struct mw_buf *out, int *override,
                   struct mw_err *err)
{
    const char *w, *eq;
    size_t wlen;

    *override = 0;
    if (mw_next_word(line, len, &pos, &w, &wlen) && wlen == 8 && memcmp(w, "override", 8) == 0) {
        *override = 1;
        if (!mw_next_word(line, len, &pos, &w, &wlen))
            return mw_err_set(err, "no TLS level after \"override\"");
    } else if (wlen == 0) {
        return mw_err_set(err, "no TLS level after the domain");
    }
    if (!mw_word_in(w, wlen, mw_tls_levels))
        return mw_err_set(err,
                          "unknown TLS level \"%.*s\" (expected none, may, encrypt, dane, "
                          "dane-only, fingerprint, verify or secure)",
                          (int)wlen, w);
    mw_buf_append(out, w, wlen);
    while (mw_next_word(line, len, &pos, &w, &wlen)) {
        if (w[0] == '#')
            return mw_err_set(err, "a comment must be on a line of its own");
        if ((eq = memchr(w, '=', wlen)) == NULL || eq == w || eq == w + wlen - 1)
            return mw_err_set(err, "\"%.*s\" is not NAME=VALUE", (int)wlen, w);
        if (!mw_word_in(w, (size_t)(eq - w), mw_tls_attrs))
            return mw_err_set(err, "unknown policy attribute \"%.*s\"", (int)(eq - w), w);
        mw_buf_putc(out, ' ');
        mw_buf_append(out, w, wlen);
    }
    return 0;
}

/* One line (without its newline) into t; blank and comment lines add nothing. */
static int
mw_tlsrules_line(struct mw_dtab *t, const char *line, size_t len, unsigned long lineno,
                 struct mw_err *err)
{
    const char *w;
    size_t wlen, pos = 0;
    struct mw_buf policy;
    char *key;
    int override;

    if (len > MW_TLSRULES_LINE_MAX)
        return mw_err_set(err, "line longer than %d bytes", MW_TLSRULES_LINE_MAX);
    if (memchr(line, '\0', len) != NULL)
        return mw_err_set(err, "NUL byte in line");
    if (!mw_next_word(line, len, &pos, &w, &wlen) || w[0] == '#')
        return 0;
    if (w != line)
        return mw_err_set(err, "line starts with a blank (continuation lines are not supported)");
    if ((key = mw_tlsrules_key(w, wlen, err)) == NULL)
        return -1;
    mw_buf_init(&policy);
    if (mw_tlsrules_policy(line, len, pos, &policy, &override, err) < 0) {
        mw_buf_release(&policy);
        mw_free(&key);
        return -1;
    }
    mw_dtab_push(t, key, mw_buf_steal(&policy), lineno)->override = override;
    return 0;
}

int
mw_tlsrules_parse(const char *name, const char *buf, size_t len, struct mw_tlsrules **out,
                  struct mw_err *err)
{
    struct mw_dtab t = {NULL, 0, 0};
    unsigned long lineno = 0;
    struct mw_err why;
    size_t pos = 0;

    while (pos < len) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t llen = nl ? (size_t)(nl - (buf + pos)) : len - pos;

        lineno++;
        if (mw_tlsrules_line(&t, buf + pos, llen, lineno, &why) < 0) {
            mw_dtab_release(&t);
            return mw_err_set(err, "%s:%lu: %s", name, lineno, why.text);
        }
        pos += llen + (nl != NULL);
    }
    if (mw_dtab_finish(&t, name, err) < 0) {
        mw_dtab_release(&t);
        return -1;
    }
    *out = mw_calloc(1, sizeof(**out));
    (*out)->tab = t;
    return 0;
}

int
mw_tlsrules_load(const char *path, struct mw_tlsrules **out, struct mw_err *err)
{
    struct mw_buf b;
    struct stat st;
    char chunk[16384];
    ssize_t r;
    int fd, rc;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return mw_err_set(err, "%s: %s", path, strerror(errno));
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return mw_err_set(err, "%s: not a regular file", path);
    }
    mw_buf_init(&b);
    while ((r = read(fd, chunk, sizeof(chunk))) > 0) {
        if (b.len + (size_t)r > MW_TLSRULES_FILE_MAX) {
            r = -1;
            errno = EFBIG;
            break;
        }
        mw_buf_append(&b, chunk, (size_t)r);
    }
    if (r < 0)
        rc = mw_err_set(err, "%s: read: %s", path, strerror(errno));
    else
        rc = mw_tlsrules_parse(path, b.data, b.len, out, err);
    close(fd);
    mw_buf_release(&b);
    return rc;
}

size_t
mw_tlsrules_count(const struct mw_tlsrules *t)
{
    return t->tab.n;
}

const char *
mw_tlsrules_lookup(const struct mw_tlsrules *t, const char *domain, int is_parent)
{
    const struct mw_dtab_entry *e = mw_dtab_lookup(&t->tab, domain, is_parent);

    return e ? e->value : NULL;
}

const char *
mw_tlsrules_find(const struct mw_tlsrules *t, const char *domain, int is_parent, int *override)
{
    const struct mw_dtab_entry *e = mw_dtab_lookup(&t->tab, domain, is_parent);

    *override = e ? e->override : 0;
    return e ? e->value : NULL;
}

size_t
mw_tlsrules_overrides(const struct mw_tlsrules *t)
{
    size_t n = 0;

    for (size_t i = 0; i < t->tab.n; i++)
        n += t->tab.v[i].override != 0;
    return n;
}

void
mw_tlsrules_free(struct mw_tlsrules **tp)
{
    if (*tp == NULL)
        return;
    mw_dtab_release(&(*tp)->tab);
    mw_free(tp);
}

int
mw_tlsrules_domains_parse(char *const *words, struct mw_tlsrules_domains **out, struct mw_err *err)
{
    struct mw_dtab t = {NULL, 0, 0};
    struct mw_err why;
    unsigned long i = 0;

    for (char *const *w = words; *w; w++) {
        char *key = mw_tlsrules_key(*w, strlen(*w), &why);

        if (key == NULL) {
            mw_dtab_release(&t);
            return mw_err_set(err, "\"%s\": %s", *w, why.text);
        }
        mw_dtab_push(&t, key, NULL, ++i);
    }
    if (mw_dtab_finish(&t, "list", &why) < 0) {
        mw_dtab_release(&t);
        return mw_err_set(err, "a domain is listed twice: %s", why.text);
    }
    *out = mw_calloc(1, sizeof(**out));
    (*out)->tab = t;
    return 0;
}

const char *
mw_tlsrules_domains_match(const struct mw_tlsrules_domains *l, const char *domain)
{
    const struct mw_dtab_entry *e = mw_dtab_lookup(&l->tab, domain, 0);

    return e ? e->key : NULL;
}

size_t
mw_tlsrules_domains_count(const struct mw_tlsrules_domains *l)
{
    return l->tab.n;
}

void
mw_tlsrules_domains_free(struct mw_tlsrules_domains **lp)
{
    if (*lp == NULL)
        return;
    mw_dtab_release(&(*lp)->tab);
    mw_free(lp);
}
