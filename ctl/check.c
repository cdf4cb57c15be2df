/*
 * check.c - "mailwardctl check DOMAIN [--selector SEL]": the command, the
 * report items and their output (text or, with --json, one JSON object).
 *
 * The checks themselves are in check-sts.c, check-dane.c and check-mail.c
 * (check.h). Exit status: 0 when no item failed, 1 when one did, 64 for a
 * usage error (a bad domain or selector), 78 for a configuration error, 69
 * when the resolver cannot be opened.
 */
#include "config.h"

#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "check.h"
#include "ctl.h"
#include "mw/alloc.h"
#include "mw/log.h"

#define CK_PSL_DEFAULT "/usr/share/publicsuffix/public_suffix_list.dat"

const char *
ck_verdict_name(enum ck_verdict v)
{
    static const char *const names[] = {"none", "ok", "warn", "fail"};

    return names[v];
}

void
ck_item_init(struct ck_item *it, const char *name)
{
    memset(it, 0, sizeof(*it));
    it->name = name;
    mw_buf_init(&it->text);
    mw_buf_init(&it->json);
    mw_buf_init(&it->notes);
    mw_buf_init(&it->noted);
}

void
ck_item_release(struct ck_item *it)
{
    mw_buf_release(&it->text);
    mw_buf_release(&it->json);
    mw_buf_release(&it->notes);
    mw_buf_release(&it->noted);
}

void
ck_set(struct ck_item *it, enum ck_verdict v, const char *fmt, ...)
{
    char line[sizeof(it->summary)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (v >= CK_WARN) {
        mw_buf_printf(&it->notes, ",%s", "");
        mw_ctl_json_string(&it->notes, line);
        mw_buf_printf(&it->noted, "%s: %s", ck_verdict_name(v), line);
        mw_buf_putc(&it->noted, '\0');
    }
    if (v >= it->verdict && !(v == it->verdict && v >= CK_WARN)) {
        it->verdict = v;
        memcpy(it->summary, line, sizeof(line));
    }
}

void
ck_detail(struct ck_item *it, const char *key, const char *fmt, ...)
{
    struct mw_buf v;
    va_list ap;

    mw_buf_init(&v);
    va_start(ap, fmt);
    mw_buf_vprintf(&v, fmt, ap);
    va_end(ap);
    mw_buf_printf(&it->text, "    %s: %s\n", key, v.data);
    mw_buf_putc(&it->json, ',');
    mw_ctl_json_string(&it->json, key);
    mw_buf_putc(&it->json, ':');
    mw_ctl_json_string(&it->json, v.data);
    mw_buf_release(&v);
}

void
ck_dns_why(const struct mw_dns_answer *a, struct mw_err *why)
{
    if (a->dnssec == MW_DNSSEC_BOGUS)
        mw_err_set(why, "%s: DNSSEC bogus (%s)", a->qname,
                   a->why_bogus ? a->why_bogus : "validation failed");
    else
        mw_err_set(why, "%s: lookup failed: %s%s%s", a->qname, mw_dns_status_name(a->status),
                   a->error ? ": " : "", a->error ? a->error : "");
}

int
ck_txt(const struct ck_ctx *c, const char *name, struct mw_buf **recs, size_t *n,
       enum mw_dnssec *dnssec, struct mw_err *why)
{
    struct mw_dns_answer *a = NULL;
    struct mw_err err;

    *recs = NULL;
    *n = 0;
    if (mw_dns_resolve(c->dns, name, MW_DNS_TXT, &a, why) < 0)
        return -1;
    if (dnssec != NULL)
        *dnssec = a->dnssec;
    if (a->status != MW_DNS_OK && a->status != MW_DNS_NXDOMAIN && a->status != MW_DNS_NODATA) {
        ck_dns_why(a, why);
        mw_dns_answer_free(&a);
        return -1;
    }
    *recs = mw_calloc(a->count + 1, sizeof(**recs));
    for (size_t i = 0; i < a->count; i++) {
        mw_buf_init(&(*recs)[*n]);
        if (mw_dns_txt_decode(a->rr[i].data, a->rr[i].len, &(*recs)[*n], &err) < 0) {
            mw_buf_release(&(*recs)[*n]);
            continue;
        }
        mw_buf_putc(&(*recs)[*n], '\0'); /* keep len the text's length */
        (*recs)[*n].len--;
        (*n)++;
    }
    mw_dns_answer_free(&a);
    return 0;
}

void
ck_txt_free(struct mw_buf **recs, size_t n)
{
    if (*recs == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        mw_buf_release(&(*recs)[i]);
    mw_free(recs);
}

/* The text form of the notes, but the one the summary already says. */
static void
ck_print_notes(const struct ck_item *it, struct mw_buf *b)
{
    size_t off = 0, skip = strlen(ck_verdict_name(it->verdict)) + 2;

    while (off < it->noted.len) {
        const char *note = it->noted.data + off;
        if (strncmp(note, ck_verdict_name(it->verdict), skip - 2) != 0 ||
            strcmp(note + skip, it->summary) != 0)
            mw_buf_printf(b, "    %s\n", note);
        off += strlen(note) + 1;
    }
}

static void
ck_print(const char *domain, struct ck_item *items, size_t n, int json, int failed)
{
    struct mw_buf b;

    mw_buf_init(&b);
    if (json) {
        mw_buf_puts(&b, "{\"domain\":");
        mw_ctl_json_string(&b, domain);
        mw_buf_printf(&b, ",\"failed\":%s,\"items\":{", failed ? "true" : "false");
    } else {
        mw_buf_printf(&b, "check %s\n", domain);
    }
    for (size_t i = 0; i < n; i++) {
        struct ck_item *it = &items[i];
        if (!json) {
            mw_buf_printf(&b, "\n%-8s %-4s  %s\n%s", it->name, ck_verdict_name(it->verdict),
                          it->summary, it->text.len ? it->text.data : "");
            ck_print_notes(it, &b);
            continue;
        }
        mw_buf_puts(&b, i ? "," : "");
        mw_ctl_json_string(&b, it->name);
        mw_buf_printf(&b, ":{\"verdict\":\"%s\",\"summary\":", ck_verdict_name(it->verdict));
        mw_ctl_json_string(&b, it->summary);
        mw_buf_printf(&b, ",\"details\":{%s},\"notes\":[%s]}",
                      it->json.len ? it->json.data + 1 : "",
                      it->notes.len ? it->notes.data + 1 : "");
    }
    mw_buf_puts(&b, json ? "}}\n" : "");
    fputs(b.data, stdout);
    mw_buf_release(&b);
}

/* Lowercase DOMAIN without a final dot into out; -1 when it is no host name. */
static int
ck_domain(const char *arg, char out[MW_DNS_NAME_MAX + 1])
{
    size_t len = strlen(arg);
    struct mw_err err;

    if (len > 0 && arg[len - 1] == '.')
        len--;
    if (len == 0 || len > MW_DNS_NAME_MAX)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)arg[i];
        if (!isalnum(ch) && ch != '-' && ch != '.' && ch != '_')
            return -1;
        out[i] = (char)tolower(ch);
    }
    out[len] = '\0';
    return mw_dns_name_check(out, &err);
}

static int
ck_run(struct mw_ctl *ctl, struct ck_ctx *c)
{
    struct ck_item items[5];
    struct mw_err err;
    size_t n = 0;
    int failed = 0;
    const char *v;

    if (mw_ctl_load_config(ctl) < 0)
        return EX_CONFIG;
    c->ca_file = (v = mw_config_raw(ctl->cfg, "mta-sts", "ca_file")) ? v : "";
    c->timeout_ms = (v = mw_config_raw(ctl->cfg, "mta-sts", "timeout")) ? atol(v) * 1000 : 10000;
    if (c->timeout_ms <= 0 || c->timeout_ms > 60000)
        c->timeout_ms = 10000;
    c->psl_path = (v = mw_config_raw(ctl->cfg, "dmarc", "public_suffix_list")) ? v : CK_PSL_DEFAULT;
    if ((c->dns = mw_dns_open(ctl->cfg, &err)) == NULL) {
        mw_log_error("resolver: %s", err.text);
        return EX_UNAVAILABLE;
    }
    ck_item_init(&items[n], "mta-sts");
    ck_sts(c, &items[n++]);
    ck_item_init(&items[n], "dane");
    ck_dane(c, &items[n++]);
    ck_item_init(&items[n], "spf");
    ck_spf(c, &items[n++]);
    ck_item_init(&items[n], "dmarc");
    ck_dmarc(c, &items[n++]);
    if (c->selector != NULL) {
        ck_item_init(&items[n], "dkim");
        ck_dkim(c, &items[n++]);
    }
    mw_dns_close(&c->dns);
    for (size_t i = 0; i < n; i++)
        failed |= items[i].verdict == CK_FAIL;
    ck_print(c->domain, items, n, ctl->json, failed);
    for (size_t i = 0; i < n; i++)
        ck_item_release(&items[i]);
    return failed ? 1 : EX_OK;
}

int
mw_ctl_cmd_check(struct mw_ctl *ctl, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"selector", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    char domain[MW_DNS_NAME_MAX + 1], sel[MW_DNS_NAME_MAX + 1];
    struct ck_ctx c = {0};
    int ch;

    optind = 0; /* glibc: start afresh (main parsed in "+" mode) */
    while ((ch = getopt_long(argc, argv, "s:", longopts, NULL)) != -1) {
        if (ch == 'j') {
            ctl->json = 1;
        } else if (ch == 's' && ck_domain(optarg, sel) == 0) {
            c.selector = sel;
        } else {
            if (ch == 's')
                fprintf(stderr, "mailwardctl check: bad selector \"%s\"\n", optarg);
            goto usage;
        }
    }
    if (optind + 1 != argc)
        goto usage;
    if (ck_domain(argv[optind], domain) < 0) {
        fprintf(stderr, "mailwardctl check: bad domain \"%s\"\n", argv[optind]);
        goto usage;
    }
    c.domain = domain;
    return ck_run(ctl, &c);
usage:
    fprintf(stderr, "usage: mailwardctl [-c FILE] [--json] check DOMAIN [--selector SEL]\n");
    return EX_USAGE;
}
