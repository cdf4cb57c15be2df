/*
 * config.c - INI configuration with declared keys (see mw/config.h).
 *
 * inih does the INI syntax. We feed it through ini_parse_stream() with our
 * own line reader so that every entry remembers the line it came from:
 * an admin must be told where the problem is, not just what it is.
 */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mw/alloc.h"
#include "mw/config.h"
#include "mw/log.h"

struct mw_cfg_entry {
    char *section;
    char *key;
    char *value;
    char *where; /* "FILE:LINE" */
};

struct mw_config {
    char *path;
    struct mw_cfg_entry *entries;
    size_t n, cap;
    const struct mw_cfg_section **schema; /* our copy of the declarations */
    size_t nschema;
    /* parse state */
    int line;
    int dup_line;
    struct mw_err *err;
};

/* Reader for ini_parse_stream over a memory block: one line per call. */
struct mw_cfg_reader {
    const char *p, *end;
    FILE *fp;
    struct mw_config *cfg;
};

static char *
mw_cfg_read_line(char *str, int num, void *stream)
{
    struct mw_cfg_reader *r = stream;
    size_t n = 0;

    if (r->fp != NULL) {
        if (fgets(str, num, r->fp) == NULL)
            return NULL;
        r->cfg->line++;
        return str;
    }
    if (r->p >= r->end)
        return NULL;
    while (r->p < r->end && n + 1 < (size_t)num) {
        char c = *r->p++;
        str[n++] = c;
        if (c == '\n')
            break;
    }
    str[n] = '\0';
    r->cfg->line++;
    return str;
}

static struct mw_cfg_entry *
mw_cfg_find_entry(const struct mw_config *cfg, const char *section, const char *key)
{
    for (size_t i = 0; i < cfg->n; i++)
        if (strcmp(cfg->entries[i].section, section) == 0 && strcmp(cfg->entries[i].key, key) == 0)
            return &cfg->entries[i];
    return NULL;
}

static int
mw_cfg_handler(void *user, const char *section, const char *name, const char *value)
{
    struct mw_config *cfg = user;
    struct mw_cfg_entry *e;
    char where[PATH_MAX + 32];

    if (mw_cfg_find_entry(cfg, section, name) != NULL) {
        e = mw_cfg_find_entry(cfg, section, name);
        mw_err_set(cfg->err, "%s:%d: duplicate key \"%s\" in [%s] (first set at %s)", cfg->path,
                   cfg->line, name, section, e->where);
        cfg->dup_line = cfg->line;
        return 0;
    }
    if (cfg->n == cfg->cap) {
        cfg->cap = cfg->cap ? cfg->cap * 2 : 32;
        cfg->entries = mw_reallocarray(cfg->entries, cfg->cap, sizeof(*cfg->entries));
    }
    snprintf(where, sizeof(where), "%s:%d", cfg->path, cfg->line);
    e = &cfg->entries[cfg->n++];
    e->section = mw_strdup(section);
    e->key = mw_strdup(name);
    e->value = mw_strdup(value);
    e->where = mw_strdup(where);
    return 1;
}

static struct mw_config *
mw_cfg_run(const char *name, struct mw_cfg_reader *r, struct mw_err *err)
{
    struct mw_config *cfg = mw_calloc(1, sizeof(*cfg));
    int rc;

    cfg->path = mw_strdup(name);
    cfg->err = err;
    r->cfg = cfg;
    rc = ini_parse_stream(mw_cfg_read_line, r, mw_cfg_handler, cfg);
    cfg->err = NULL;
    if (rc == 0)
        return cfg;
    if (rc > 0 && rc != cfg->dup_line)
        mw_err_set(err, "%s:%d: syntax error (expected [section] or key = value)", name, rc);
    else if (rc < 0)
        mw_err_set(err, "%s: cannot parse: out of memory", name);
    mw_config_free(&cfg);
    return NULL;
}

struct mw_config *
mw_config_parse(const char *name, const char *text, size_t len, struct mw_err *err)
{
    struct mw_cfg_reader r = {.p = text, .end = text + len};

    return mw_cfg_run(name, &r, err);
}

struct mw_config *
mw_config_load(const char *path, int missing_ok, struct mw_err *err)
{
    struct mw_cfg_reader r = {0};
    struct mw_config *cfg;

    r.fp = fopen(path, "r");
    if (r.fp == NULL) {
        if (errno == ENOENT && missing_ok)
            return mw_config_parse(path, "", 0, err);
        mw_err_set(err, "%s: cannot open configuration: %s", path, strerror(errno));
        return NULL;
    }
    cfg = mw_cfg_run(path, &r, err);
    fclose(r.fp);
    return cfg;
}

void
mw_config_free(struct mw_config **cfgp)
{
    struct mw_config *cfg = *cfgp;

    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->n; i++) {
        mw_free(&cfg->entries[i].section);
        mw_free(&cfg->entries[i].key);
        mw_free(&cfg->entries[i].value);
        mw_free(&cfg->entries[i].where);
    }
    mw_free(&cfg->entries);
    mw_free(&cfg->schema);
    mw_free(&cfg->path);
    mw_free(cfgp);
}

const char *
mw_config_path(const struct mw_config *cfg)
{
    return cfg->path;
}

static const struct mw_cfg_section *
mw_cfg_find_section(const struct mw_cfg_section *const *sections, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (sections[i] != NULL && strcmp(sections[i]->name, name) == 0)
            return sections[i];
    return NULL;
}

static const struct mw_cfg_key *
mw_cfg_find_key(const struct mw_cfg_section *sec, const char *name)
{
    for (const struct mw_cfg_key *k = sec->keys; k->name != NULL; k++)
        if (strcmp(k->name, name) == 0)
            return k;
    return NULL;
}

static int
mw_cfg_parse_bool(const char *v, int *out)
{
    static const char *yes[] = {"yes", "true", "on", "1"};
    static const char *no[] = {"no", "false", "off", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return *out = 1, 0;
        if (strcasecmp(v, no[i]) == 0)
            return *out = 0, 0;
    }
    return -1;
}

static int
mw_cfg_parse_int(const char *v, long long *out)
{
    char *end;

    errno = 0;
    *out = strtoll(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0')
        return -1;
    return 0;
}

static int
mw_cfg_enum_ok(const char *choices, const char *v)
{
    size_t len = strlen(v);
    const char *p = choices;

    while (*p) {
        size_t wlen = strcspn(p, "|");
        if (wlen == len && strncmp(p, v, len) == 0)
            return 1;
        p += wlen;
        if (*p == '|')
            p++;
    }
    return 0;
}

/* Check one value against its declaration; returns 0 or -1 with err set. */
static int
mw_cfg_check_value(const struct mw_cfg_key *k, const char *v, struct mw_err *err)
{
    long long i;
    int b;

    switch (k->type) {
    case MW_CFG_INT:
        if (mw_cfg_parse_int(v, &i) < 0)
            return mw_err_set(err, "\"%s\" is not a whole number", v);
        if (i < k->min || i > k->max)
            return mw_err_set(err, "%lld is out of range (%lld..%lld)", i, k->min, k->max);
        break;
    case MW_CFG_BOOL:
        if (mw_cfg_parse_bool(v, &b) < 0)
            return mw_err_set(err, "\"%s\" is not yes or no", v);
        break;
    case MW_CFG_ENUM:
        if (!mw_cfg_enum_ok(k->choices, v))
            return mw_err_set(err, "\"%s\" is not one of %s", v, k->choices);
        break;
    case MW_CFG_STRING:
    case MW_CFG_LIST:
        break;
    }
    if (k->check != NULL && *v != '\0')
        return k->check(v, err);
    return 0;
}

int
mw_config_validate(struct mw_config *cfg, const struct mw_cfg_section *const *sections, size_t n)
{
    int problems = 0;
    struct mw_err err;

    /* Declared defaults must themselves be valid: a bug otherwise. */
    for (size_t s = 0; s < n; s++)
        for (const struct mw_cfg_key *k = sections[s]->keys; k->name != NULL; k++)
            if (mw_cfg_check_value(k, k->def, &err) < 0)
                mw_log_panic("default of [%s] %s: %s", sections[s]->name, k->name, err.text);

    for (size_t i = 0; i < cfg->n; i++) {
        const struct mw_cfg_entry *e = &cfg->entries[i];
        const struct mw_cfg_section *sec = mw_cfg_find_section(sections, n, e->section);
        const struct mw_cfg_key *k;

        if (sec == NULL) {
            mw_log_error("%s: unknown section [%s]", e->where, e->section);
            problems++;
            continue;
        }
        if ((k = mw_cfg_find_key(sec, e->key)) == NULL) {
            mw_log_error("%s: unknown key \"%s\" in section [%s]", e->where, e->key, e->section);
            problems++;
            continue;
        }
        if (mw_cfg_check_value(k, e->value, &err) < 0) {
            mw_log_error("%s: [%s] %s: %s", e->where, e->section, e->key, err.text);
            problems++;
        }
    }
    if (problems == 0) {
        mw_free(&cfg->schema);
        cfg->schema = mw_calloc(n ? n : 1, sizeof(*cfg->schema));
        memcpy(cfg->schema, sections, n * sizeof(*sections));
        cfg->nschema = n;
    }
    return problems;
}

/* The declared key (panics if undeclared) and the file's value or the default. */
static const char *
mw_cfg_value(const struct mw_config *cfg, const char *section, const char *key,
             const struct mw_cfg_key **kp)
{
    const struct mw_cfg_section *sec;
    const struct mw_cfg_entry *e;

    if (cfg->schema == NULL)
        mw_log_panic("configuration read before validation: [%s] %s", section, key);
    sec = mw_cfg_find_section(cfg->schema, cfg->nschema, section);
    if (sec == NULL || (*kp = mw_cfg_find_key(sec, key)) == NULL)
        mw_log_panic("undeclared configuration key [%s] %s", section, key);
    e = mw_cfg_find_entry(cfg, section, key);
    return e ? e->value : (*kp)->def;
}

const char *
mw_config_str(const struct mw_config *cfg, const char *section, const char *key)
{
    const struct mw_cfg_key *k;

    return mw_cfg_value(cfg, section, key, &k);
}

long long
mw_config_int(const struct mw_config *cfg, const char *section, const char *key)
{
    const struct mw_cfg_key *k;
    const char *v = mw_cfg_value(cfg, section, key, &k);
    long long i;

    if (k->type != MW_CFG_INT || mw_cfg_parse_int(v, &i) < 0)
        mw_log_panic("[%s] %s is not an integer key", section, key);
    return i;
}

int
mw_config_bool(const struct mw_config *cfg, const char *section, const char *key)
{
    const struct mw_cfg_key *k;
    const char *v = mw_cfg_value(cfg, section, key, &k);
    int b;

    if (k->type != MW_CFG_BOOL || mw_cfg_parse_bool(v, &b) < 0)
        mw_log_panic("[%s] %s is not a boolean key", section, key);
    return b;
}

char **
mw_config_list(const struct mw_config *cfg, const char *section, const char *key, size_t *n)
{
    return mw_strv_split(mw_config_str(cfg, section, key), n);
}

const struct mw_cfg_section *const *
mw_config_schema(const struct mw_config *cfg, size_t *n)
{
    *n = cfg->nschema;
    return cfg->schema;
}

const char *
mw_config_raw(const struct mw_config *cfg, const char *section, const char *key)
{
    const struct mw_cfg_entry *e = mw_cfg_find_entry(cfg, section, key);

    return e ? e->value : NULL;
}

const char *
mw_config_where(const struct mw_config *cfg, const char *section, const char *key)
{
    const struct mw_cfg_entry *e = mw_cfg_find_entry(cfg, section, key);

    return e ? e->where : "default";
}

char **
mw_strv_split(const char *s, size_t *np)
{
    static const char sep[] = " \t\r\n,";
    size_t n = 0, cap = 4;
    char **v = mw_calloc(cap, sizeof(*v));

    while (*s) {
        size_t len;

        s += strspn(s, sep);
        len = strcspn(s, sep);
        if (len == 0)
            break;
        if (n + 1 >= cap) {
            cap *= 2;
            v = mw_reallocarray(v, cap, sizeof(*v));
        }
        v[n++] = mw_strndup(s, len);
        s += len;
    }
    v[n] = NULL;
    if (np != NULL)
        *np = n;
    return v;
}

void
mw_strv_free(char ***vp)
{
    char **v = *vp;

    if (v == NULL)
        return;
    for (char **p = v; *p; p++)
        mw_free(p);
    mw_free(vp);
}
