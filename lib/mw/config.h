/*
 * mw/config.h - the one INI configuration file, read with inih.
 *
 * Every section and key is declared exactly once, with its type, default and
 * a doc string, in a struct mw_cfg_section: the core sections in
 * config-core.c, each plugin's own sections in its struct mw_plugin. After
 * mw_config_load() the host calls mw_config_validate() with every declared
 * section; unknown sections or keys, duplicate keys and bad values are
 * reported one per line as "FILE:LINE: problem" (the daemons then exit 78).
 *
 * Accessors never fail: a key absent from the file yields its declared
 * default. Asking for an undeclared key is a programming error (panic).
 * A loaded config is immutable, so any thread may read it; reload builds a
 * new one and swaps it in.
 */
#ifndef MW_CONFIG_H
#define MW_CONFIG_H

#include <stddef.h>

#include "mw/err.h"

enum mw_cfg_type {
    MW_CFG_STRING, /* any text */
    MW_CFG_INT,    /* decimal integer within [min, max] */
    MW_CFG_BOOL,   /* yes/no, true/false, on/off, 1/0 */
    MW_CFG_LIST,   /* words separated by blanks or commas */
    MW_CFG_ENUM,   /* one of choices, "a|b|c" */
};

struct mw_cfg_key {
    const char *name;
    enum mw_cfg_type type;
    const char *def;     /* default, written as in the file */
    long long min, max;  /* MW_CFG_INT bounds */
    const char *choices; /* MW_CFG_ENUM: "memory|redis" */
    /* Optional extra check of a non-empty value (e.g. an endpoint). */
    int (*check)(const char *value, struct mw_err *err);
    const char *doc;
};

struct mw_cfg_section {
    const char *name;
    const char *doc;
    const struct mw_cfg_key *keys; /* terminated by an entry with name NULL */
};

struct mw_config;

/* The core sections: general, dns, cache, milter, policyd (NULL-terminated). */
extern const struct mw_cfg_section *const mw_cfg_core_sections[];

/*
 * Read path. A syntax error or duplicate key fails with "FILE:LINE: ...".
 * When path does not exist and missing_ok is set, an empty configuration
 * (all defaults) is returned.
 */
struct mw_config *mw_config_load(const char *path, int missing_ok, struct mw_err *err);
/* Parse INI text held in memory (tests, fuzzing); name is used in messages. */
struct mw_config *mw_config_parse(const char *name, const char *text, size_t len,
                                  struct mw_err *err);
/*
 * Check every entry against the declared sections (an array of n pointers).
 * Logs each problem with mw_log_error() and returns how many there were.
 * On success (0) the sections become the schema for the accessors (the array
 * is copied; the sections it points to must outlive cfg).
 */
int mw_config_validate(struct mw_config *cfg, const struct mw_cfg_section *const *sections,
                       size_t n);
/* Free the configuration and NULL the pointer. */
void mw_config_free(struct mw_config **cfgp);

/* The file name this configuration was read from. */
const char *mw_config_path(const struct mw_config *cfg);
/* Typed accessors: the value in the file, else the declared default. */
const char *mw_config_str(const struct mw_config *cfg, const char *section, const char *key);
long long mw_config_int(const struct mw_config *cfg, const char *section, const char *key);
int mw_config_bool(const struct mw_config *cfg, const char *section, const char *key);
/* A list as a NULL-terminated vector; *n (if not NULL) gets its length. Free with mw_strv_free. */
char **mw_config_list(const struct mw_config *cfg, const char *section, const char *key,
                      size_t *n);
/* The value as written in the file, NULL if absent; works before validation. */
const char *mw_config_raw(const struct mw_config *cfg, const char *section, const char *key);
/* The declared sections this configuration was validated against (n in *n). */
const struct mw_cfg_section *const *mw_config_schema(const struct mw_config *cfg, size_t *n);
/* "FILE:LINE" where section/key was set, or "default" (for error messages). */
const char *mw_config_where(const struct mw_config *cfg, const char *section, const char *key);

/* Split s into words at blanks and commas; NULL-terminated vector. */
char **mw_strv_split(const char *s, size_t *n);
void mw_strv_free(char ***vp);

#endif
