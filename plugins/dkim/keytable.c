/*
 * keytable.c - OpenDKIM KeyTable and SigningTable parsers (see keytable.h).
 *
 * The parsers distrust their input: they work on explicit lengths (a NUL
 * byte is an error, not an end), bound each line and the line count, and
 * fail closed on anything they do not understand, naming the line.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "dkim/keytable.h"
#include "mw/alloc.h"
#include "mw/buf.h"

struct mw_dkim_rule {
    char *pattern; /* lowercased */
    size_t key;    /* index into the KeyTable */
};

struct mw_dkim_signtable {
    struct mw_dkim_rule *v;
    size_t n;
    bool regex;
};

/* One line of a table as at most three blank-separated fields. */
struct mw_dkim_fields {
    char *f[3];
    size_t n; /* fields seen (can exceed 3: too many) */
};

/*
 * Next line of text[*off..len) into line (NUL-terminated, comment cut).
 * Returns 1 with a line, 0 at the end, -1 on an error (err set).
 */
static int
mw_dkim_next_line(const char *name, const char *text, size_t len, size_t *off,
                  unsigned long *lineno, char *line, struct mw_err *err)
{
    const char *p, *nl;
    size_t n;
    char *hash;

    if (*off >= len)
        return 0;
    p = text + *off;
    nl = memchr(p, '\n', len - *off);
    n = nl ? (size_t)(nl - p) : len - *off;
    *off += n + (nl != NULL);
    ++*lineno;
    if (*lineno > MW_DKIM_TABLE_LINES_MAX)
        return mw_err_set(err, "%s:%lu: more than %d lines", name, *lineno,
                          MW_DKIM_TABLE_LINES_MAX);
    if (n > 0 && p[n - 1] == '\r')
        n--;
    if (n >= MW_DKIM_TABLE_LINE_MAX)
        return mw_err_set(err, "%s:%lu: line longer than %d bytes", name, *lineno,
                          MW_DKIM_TABLE_LINE_MAX - 1);
    if (memchr(p, '\0', n) != NULL)
        return mw_err_set(err, "%s:%lu: NUL byte", name, *lineno);
    memcpy(line, p, n);
    line[n] = '\0';
    if (line[0] == '#')
        line[0] = '\0';
    for (hash = strchr(line, '#'); hash; hash = strchr(hash + 1, '#'))
        if (hash[-1] == ' ' || hash[-1] == '\t') {
            *hash = '\0';
            break;
        }
    return 1;
}

static void
mw_dkim_split(char *line, struct mw_dkim_fields *fl)
{
    char *save = NULL;

    fl->n = 0;
    for (char *w = strtok_r(line, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        if (fl->n < 3)
            fl->f[fl->n] = w;
        fl->n++;
    }
}

/* A name, domain or selector: printable ASCII without blanks, ':' or '#'. */
static bool
mw_dkim_word_ok(const char *w)
{
    if (*w == '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)w; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || *p == ':' || *p == ';' || *p == '#')
            return false;
    return true;
}

static void
mw_dkim_key_release(struct mw_dkim_key *k)
{
    mw_free(&k->name);
    mw_free(&k->domain);
    mw_free(&k->selector);
    mw_free(&k->path);
}

void
mw_dkim_keytable_free(struct mw_dkim_keytable **ktp)
{
    struct mw_dkim_keytable *kt = *ktp;

    if (kt == NULL)
        return;
    for (size_t i = 0; i < kt->n; i++)
        mw_dkim_key_release(&kt->v[i]);
    mw_free(&kt->v);
    mw_free(ktp);
}

static const struct mw_dkim_key *
mw_dkim_key_find(const struct mw_dkim_keytable *kt, const char *name, size_t *at)
{
    for (size_t i = 0; i < kt->n; i++)
        if (strcmp(kt->v[i].name, name) == 0) {
            if (at != NULL)
                *at = i;
            return &kt->v[i];
        }
    return NULL;
}

/* "DOMAIN:SELECTOR:KEYPATH" into k; -1 with err on a malformed value. */
static int
mw_dkim_key_value(const char *name, unsigned long lineno, char *value, struct mw_dkim_key *k,
                  struct mw_err *err)
{
    char *c1 = strchr(value, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

    if (c2 == NULL)
        return mw_err_set(err, "%s:%lu: want NAME DOMAIN:SELECTOR:KEYPATH", name, lineno);
    *c1 = *c2 = '\0';
    if (!mw_dkim_word_ok(value) || (strlen(value) > 253))
        return mw_err_set(err, "%s:%lu: bad domain", name, lineno);
    if (!mw_dkim_word_ok(c1 + 1) || strlen(c1 + 1) > 63)
        return mw_err_set(err, "%s:%lu: bad selector", name, lineno);
    if (c2[1] != '/')
        return mw_err_set(err, "%s:%lu: the key path must be absolute", name, lineno);
    k->domain = mw_strdup(value);
    k->selector = mw_strdup(c1 + 1);
    k->path = mw_strdup(c2 + 1);
    for (char *p = k->domain; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return 0;
}

int
mw_dkim_keytable_parse(const char *name, const char *text, size_t len,
                       struct mw_dkim_keytable **out, struct mw_err *err)
{
    struct mw_dkim_keytable *kt = mw_calloc(1, sizeof(*kt));
    char *line = mw_malloc(MW_DKIM_TABLE_LINE_MAX);
    struct mw_dkim_fields fl;
    size_t off = 0, cap = 0;
    unsigned long lineno = 0;
    int rc;

    while ((rc = mw_dkim_next_line(name, text, len, &off, &lineno, line, err)) > 0) {
        struct mw_dkim_key k = {.line = lineno};

        mw_dkim_split(line, &fl);
        if (fl.n == 0)
            continue;
        if (fl.n != 2) {
            rc = mw_err_set(err, "%s:%lu: want NAME DOMAIN:SELECTOR:KEYPATH", name, lineno);
            break;
        }
        if (!mw_dkim_word_ok(fl.f[0])) {
            rc = mw_err_set(err, "%s:%lu: bad key name", name, lineno);
            break;
        }
        if (mw_dkim_key_find(kt, fl.f[0], NULL) != NULL) {
            rc = mw_err_set(err, "%s:%lu: duplicate key name %s", name, lineno, fl.f[0]);
            break;
        }
        if ((rc = mw_dkim_key_value(name, lineno, fl.f[1], &k, err)) < 0) {
            mw_dkim_key_release(&k);
            break;
        }
        k.name = mw_strdup(fl.f[0]);
        if (kt->n == cap) {
            cap = cap ? cap * 2 : 8;
            kt->v = mw_reallocarray(kt->v, cap, sizeof(*kt->v));
        }
        kt->v[kt->n++] = k;
    }
    mw_free(&line);
    if (rc < 0) {
        mw_dkim_keytable_free(&kt);
        return -1;
    }
    *out = kt;
    return 0;
}

void
mw_dkim_signtable_free(struct mw_dkim_signtable **stp)
{
    struct mw_dkim_signtable *st = *stp;

    if (st == NULL)
        return;
    for (size_t i = 0; i < st->n; i++)
        mw_free(&st->v[i].pattern);
    mw_free(&st->v);
    mw_free(stp);
}

int
mw_dkim_signtable_parse(const char *name, const char *text, size_t len, bool regex,
                        const struct mw_dkim_keytable *kt, struct mw_dkim_signtable **out,
                        struct mw_err *err)
{
    struct mw_dkim_signtable *st = mw_calloc(1, sizeof(*st));
    char *line = mw_malloc(MW_DKIM_TABLE_LINE_MAX);
    struct mw_dkim_fields fl;
    size_t off = 0, cap = 0, key;
    unsigned long lineno = 0;
    int rc;

    st->regex = regex;
    while ((rc = mw_dkim_next_line(name, text, len, &off, &lineno, line, err)) > 0) {
        mw_dkim_split(line, &fl);
        if (fl.n == 0)
            continue;
        if (fl.n != 2 || !mw_dkim_word_ok(fl.f[1])) {
            rc = mw_err_set(err, "%s:%lu: want PATTERN KEYNAME", name, lineno);
            break;
        }
        if (mw_dkim_key_find(kt, fl.f[1], &key) == NULL) {
            rc = mw_err_set(err, "%s:%lu: key %s is not in the KeyTable", name, lineno, fl.f[1]);
            break;
        }
        if (st->n == cap) {
            cap = cap ? cap * 2 : 8;
            st->v = mw_reallocarray(st->v, cap, sizeof(*st->v));
        }
        st->v[st->n].pattern = mw_strdup(fl.f[0]);
        for (char *p = st->v[st->n].pattern; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        st->v[st->n++].key = key;
    }
    mw_free(&line);
    if (rc < 0) {
        mw_dkim_signtable_free(&st);
        return -1;
    }
    *out = st;
    return 0;
}

size_t
mw_dkim_signtable_count(const struct mw_dkim_signtable *st)
{
    return st->n;
}

static char
mw_dkim_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/*
 * Greedy wildcard matching with one backtrack point (the last "*"): linear
 * in practice, at worst |pattern| * |s| steps; never recursive.
 */
bool
mw_dkim_wildcard(const char *pattern, const char *s)
{
    const char *p = pattern, *star = NULL, *resume = NULL;

    while (*s != '\0') {
        if (*p == '*') {
            star = p++;
            resume = s;
        } else if (*p != '\0' && mw_dkim_lower(*p) == mw_dkim_lower(*s)) {
            p++;
            s++;
        } else if (star != NULL) {
            p = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

static bool
mw_dkim_add_key(size_t *idx, size_t *n, size_t max, size_t key)
{
    for (size_t i = 0; i < *n; i++)
        if (idx[i] == key)
            return true;
    if (*n == max)
        return false;
    idx[(*n)++] = key;
    return true;
}

size_t
mw_dkim_signtable_match(const struct mw_dkim_signtable *st, const char *local, const char *domain,
                        size_t *idx, size_t max)
{
    size_t n = 0, addrlen = strlen(local) + 1 + strlen(domain) + 1;
    char *addr = mw_malloc(addrlen);

    memcpy(addr, local, strlen(local));
    addr[strlen(local)] = '@';
    memcpy(addr + strlen(local) + 1, domain, strlen(domain) + 1);
    if (st->regex) {
        for (size_t i = 0; i < st->n; i++)
            if (mw_dkim_wildcard(st->v[i].pattern, addr) &&
                !mw_dkim_add_key(idx, &n, max, st->v[i].key))
                break;
    } else {
        for (size_t i = 0; i < st->n; i++)
            if (strcasecmp(st->v[i].pattern, addr) == 0 &&
                !mw_dkim_add_key(idx, &n, max, st->v[i].key))
                break;
        bool by_addr = n > 0;

        for (size_t i = 0; !by_addr && i < st->n; i++)
            if (strcasecmp(st->v[i].pattern, domain) == 0 &&
                !mw_dkim_add_key(idx, &n, max, st->v[i].key))
                break;
    }
    mw_free(&addr);
    return n;
}

/*
 * The local part of the address: inside the last <...> if any, else the
 * whole value; comments and blanks dropped; what precedes the last '@'
 * (after a route's ':').
 */
char *
mw_dkim_from_local(const char *value)
{
    const char *lt = strrchr(value, '<'), *start = lt ? lt + 1 : value;
    const char *end = lt ? strchr(start, '>') : NULL;
    struct mw_buf b;
    char *at, *colon, *out;
    int depth = 0;

    if (end == NULL)
        end = start + strlen(start);
    mw_buf_init(&b);
    for (const char *p = start; p < end; p++) {
        if (*p == '(')
            depth++;
        else if (*p == ')' && depth > 0)
            depth--;
        else if (depth == 0 && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
            mw_buf_putc(&b, *p);
    }
    mw_buf_putc(&b, '\0');
    at = strrchr(b.data, '@');
    if (at == NULL) {
        mw_buf_release(&b);
        return mw_strdup("");
    }
    *at = '\0';
    colon = strrchr(b.data, ':');
    out = mw_strdup(colon ? colon + 1 : b.data);
    mw_buf_release(&b);
    return out;
}
