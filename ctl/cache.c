/*
 * cache.c - "mailwardctl cache show|flush DOMAIN": what the daemons keep in the
 * shared cache about a domain, and forgetting it.
 *
 * The policy daemon's plugins keep, per domain (key prefix [cache] redis_prefix
 * added by lib/cache):
 *   mta-sts:DOMAIN    the MTA-STS policy as fetched, or "none" (plugins/mta-sts/entry.h)
 *   dane:DOMAIN       the DANE verdict for the records' TTL (plugins/dane)
 *   dane-last:DOMAIN  the last DANE verdict, answering while DNS fails (stale_ttl)
 * With [cache] backend = redis the cache is Redis, shared by every daemon of the
 * fleet, and this command reads and deletes those keys there. With the embedded
 * memory backend every daemon keeps its own cache in its own memory: nothing is
 * reachable from here, and the command says so (exit 69) instead of printing an
 * empty, misleading answer.
 *
 * Exit codes: 0 done (show: also when nothing is cached), 64 usage, 65 bad domain,
 * 69 memory backend or Redis unreachable, 78 configuration.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "ctl.h"
#include "mw/buf.h"
#include "mw/cache.h"
#include "mw/dns.h"
#include "mw/err.h"

static const char *const mw_cache_kinds[] = {"mta-sts", "dane", "dane-last", NULL};

/* Print a cached value for people: printable bytes as they are, others as \xNN. */
static void
mw_cache_print_value(const char *v, size_t len)
{
    fputs("    ", stdout);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)v[i];

        if (ch == '\n')
            fputs(i + 1 < len ? "\n    " : "", stdout);
        else if (ch == '\r')
            continue;
        else if (isprint(ch) || ch == '\t')
            putchar(ch);
        else
            printf("\\x%02x", ch);
    }
    putchar('\n');
}

/* The value as a JSON string; bytes that are not printable ASCII become \u00NN. */
static void
mw_cache_json_value(struct mw_buf *out, const char *v, size_t len)
{
    mw_buf_putc(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)v[i];

        if (ch == '"' || ch == '\\')
            mw_buf_printf(out, "\\%c", ch);
        else if (ch == '\n')
            mw_buf_append(out, "\\n", 2);
        else if (ch < 0x20 || ch >= 0x7f)
            mw_buf_printf(out, "\\u%04x", ch);
        else
            mw_buf_putc(out, (int)ch);
    }
    mw_buf_putc(out, '"');
}

/* Lower-case a copy of the domain (trailing dot dropped) and check it; 0 or EX_DATAERR. */
static int
mw_cache_domain(const char *in, char *out, size_t outsz)
{
    struct mw_err err;
    size_t n = strlen(in);

    if (n > 0 && in[n - 1] == '.')
        n--;
    if (n == 0 || n >= outsz) {
        fprintf(stderr, "mailwardctl: cache: \"%s\" is not a domain name\n", in);
        return EX_DATAERR;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[n] = '\0';
    if (mw_dns_name_check(out, &err) < 0) {
        fprintf(stderr, "mailwardctl: cache: %s: %s\n", in, err.text);
        return EX_DATAERR;
    }
    return 0;
}

static int
mw_cache_run(struct mw_ctl *ctl, struct mw_cache *c, int flush, const char *domain)
{
    struct mw_buf json, val, key;
    int found = 0;

    mw_buf_init(&json);
    mw_buf_init(&val);
    mw_buf_init(&key);
    mw_buf_printf(&json, "{\"domain\":");
    mw_ctl_json_string(&json, domain);
    mw_buf_printf(&json, ",\"%s\":{", flush ? "deleted" : "entries");
    for (size_t i = 0; mw_cache_kinds[i] != NULL; i++) {
        mw_buf_reset(&key);
        mw_buf_printf(&key, "%s:%s", mw_cache_kinds[i], domain);
        mw_buf_reset(&val);
        if (!mw_cache_get(c, key.data, &val))
            continue;
        if (flush)
            mw_cache_del(c, key.data);
        if (ctl->json) {
            mw_buf_printf(&json, "%s", found ? "," : "");
            mw_ctl_json_string(&json, key.data);
            mw_buf_putc(&json, ':');
            mw_cache_json_value(&json, val.data, val.len);
        } else if (flush) {
            printf("deleted %s\n", key.data);
        } else {
            printf("%s\n", key.data);
            mw_cache_print_value(val.data, val.len);
        }
        found++;
    }
    mw_buf_printf(&json, "}}");
    if (ctl->json)
        printf("%s\n", json.data);
    else if (found == 0)
        printf("nothing cached for %s\n", domain);
    mw_buf_release(&json);
    mw_buf_release(&val);
    mw_buf_release(&key);
    return EX_OK;
}

int
mw_ctl_cmd_cache(struct mw_ctl *ctl, int argc, char **argv)
{
    char domain[256];
    struct mw_cache *c;
    struct mw_err err;
    const char *backend;
    int flush, rc;

    if (argc != 3 || (strcmp(argv[1], "show") != 0 && strcmp(argv[1], "flush") != 0)) {
        fprintf(stderr, "usage: mailwardctl [-c FILE] [--json] cache show|flush DOMAIN\n");
        return EX_USAGE;
    }
    flush = strcmp(argv[1], "flush") == 0;
    if ((rc = mw_cache_domain(argv[2], domain, sizeof(domain))) != 0)
        return rc;
    if (mw_ctl_load_config(ctl) < 0)
        return EX_CONFIG;
    backend = mw_config_str(ctl->cfg, "cache", "backend");
    if (backend == NULL || strcmp(backend, "redis") != 0) {
        fprintf(stderr,
                "mailwardctl: cache: [cache] backend = memory: each daemon keeps its own cache "
                "in its memory, out of reach from here (restarting mailward-policyd empties it)\n");
        return EX_UNAVAILABLE;
    }
    if ((c = mw_cache_open(ctl->cfg, &err)) == NULL) {
        fprintf(stderr, "mailwardctl: cache: %s\n", err.text);
        return EX_CONFIG;
    }
    rc = mw_cache_run(ctl, c, flush, domain);
    /* A Redis that did not answer looks like an empty cache: say which it was. */
    {
        struct mw_cache_stats st;

        mw_cache_stats(c, &st);
        if (st.redis_errors > 0) {
            fprintf(stderr, "mailwardctl: cache: Redis (%s) did not answer: nothing read%s\n",
                    mw_config_str(ctl->cfg, "cache", "redis"), flush ? " or deleted" : "");
            rc = EX_UNAVAILABLE;
        }
    }
    mw_cache_close(&c);
    return rc;
}
