/*
 * mailwardctl - the mailward admin tool.
 *
 * SYNOPSIS
 *   mailwardctl [-c FILE] [--json] COMMAND [ARGS...]
 *
 * DESCRIPTION
 *   A table of commands, each a small function that prints human text or,
 *   with --json, one JSON document on stdout. Commands arrive with the
 *   features they manage (keys, check, cache); this file holds the
 *   dispatcher and the commands that need only the core:
 *     config     validate the configuration like the daemons' -n
 *     stats      fetch both daemons' metrics endpoints and print the values
 *     version    print versions
 *   Exit codes follow sysexits.h: 64 usage, 78 configuration, 69 a daemon
 *   could not be reached; "check" exits 1 when an item failed (ctl/check.c).
 */
#include "config.h"

#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "ctl.h"
#include "mw/alloc.h"
#include "mw/buf.h"
#include "mw/daemon.h"
#include "mw/log.h"

static int cmd_config(struct mw_ctl *ctl, int argc, char **argv);
static int cmd_stats(struct mw_ctl *ctl, int argc, char **argv);
static int cmd_version(struct mw_ctl *ctl, int argc, char **argv);

static const struct mw_ctl_command commands[] = {
    {"cache", "show|flush DOMAIN", "what the shared (Redis) cache holds about a domain; forget it",
     mw_ctl_cmd_cache},
    {"check", "DOMAIN [--selector SEL]",
     "check a domain's MTA-STS, DANE, SPF, DMARC (and DKIM key) records", mw_ctl_cmd_check},
    {"config", "[keys]", "validate the configuration; \"keys\" lists every key", cmd_config},
    {"keys", "SUBCOMMAND", "the OpenPGP keystore (generate, import, export, list, delete, default)",
     mw_ctl_cmd_keys},
    {"sts", "init DOMAIN [--mode M] [--max-age N] [--mx P]... [--rua URI] [--policy-file F]",
     "write our MTA-STS policy for mailward-policyd and print the DNS records to publish",
     mw_ctl_cmd_sts},
    {"stats", "", "print the counters of both daemons (from their metrics endpoints)", cmd_stats},
    {"tlsa", "CERTFILE|HOST:PORT [--next NEWCERT] [--mx NAME]",
     "print the DANE TLSA 3 1 1 record of a certificate (and of the next one in a rollover)",
     mw_ctl_cmd_tlsa},
    {"version", "", "print the version", cmd_version},
    {NULL, NULL, NULL, NULL},
};

static void
usage(FILE *fp)
{
    fprintf(fp, "usage: mailwardctl [-c FILE] [--json] COMMAND [ARGS...]\n\ncommands:\n");
    for (const struct mw_ctl_command *c = commands; c->name; c++)
        fprintf(fp, "  %-10s %-16s %s\n", c->name, c->args, c->help);
}

void
mw_ctl_json_string(struct mw_buf *out, const char *s)
{
    mw_buf_putc(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            mw_buf_printf(out, "\\%c", *p);
        else if (*p < 0x20)
            mw_buf_printf(out, "\\u%04x", *p);
        else
            mw_buf_putc(out, *p);
    }
    mw_buf_putc(out, '"');
}

int
mw_ctl_load_config(struct mw_ctl *ctl)
{
    struct mw_daemon_opts o = {.program = "mailwardctl"};

    if (ctl->cfg != NULL)
        return 0;
    o.config_path = ctl->config_path;
    o.config_given = ctl->config_given;
    ctl->cfg = mw_daemon_config(&o, &ctl->schema);
    return ctl->cfg ? 0 : -1;
}

/* "config keys": every declared key with its default, for docs and scripts. */
static int
cmd_config_keys(struct mw_ctl *ctl)
{
    const struct mw_cfg_section *const *sections;
    struct mw_buf b;
    size_t n;

    if (mw_ctl_load_config(ctl) < 0)
        return EX_CONFIG;
    sections = mw_config_schema(ctl->cfg, &n);
    mw_buf_init(&b);
    mw_buf_puts(&b, ctl->json ? "[" : "");
    for (size_t i = 0; i < n; i++) {
        for (const struct mw_cfg_key *k = sections[i]->keys; k->name; k++) {
            if (!ctl->json) {
                mw_buf_printf(&b, "[%s] %s = %s\n", sections[i]->name, k->name, k->def);
                continue;
            }
            mw_buf_puts(&b, b.len > 1 ? ",{\"section\":" : "{\"section\":");
            mw_ctl_json_string(&b, sections[i]->name);
            mw_buf_puts(&b, ",\"key\":");
            mw_ctl_json_string(&b, k->name);
            mw_buf_puts(&b, ",\"default\":");
            mw_ctl_json_string(&b, k->def);
            mw_buf_puts(&b, ",\"doc\":");
            mw_ctl_json_string(&b, k->doc);
            mw_buf_putc(&b, '}');
        }
    }
    mw_buf_puts(&b, ctl->json ? "]\n" : "");
    fputs(b.data, stdout);
    mw_buf_release(&b);
    return EX_OK;
}

static int
cmd_config(struct mw_ctl *ctl, int argc, char **argv)
{
    int ok;

    if (argc == 2 && strcmp(argv[1], "keys") == 0)
        return cmd_config_keys(ctl);
    if (argc != 1) {
        fprintf(stderr, "usage: mailwardctl config [keys]\n");
        return EX_USAGE;
    }
    ok = mw_ctl_load_config(ctl) == 0;

    if (ctl->json) {
        struct mw_buf b;
        mw_buf_init(&b);
        mw_buf_puts(&b, "{\"file\":");
        mw_ctl_json_string(&b, ctl->config_path);
        mw_buf_printf(&b, ",\"valid\":%s}\n", ok ? "true" : "false");
        fputs(b.data, stdout);
        mw_buf_release(&b);
    } else if (ok) {
        printf("%s: configuration is valid\n", ctl->config_path);
    }
    return ok ? EX_OK : EX_CONFIG;
}

static size_t
stats_write(char *data, size_t size, size_t n, void *arg)
{
    struct mw_buf *b = arg;

    if (b->len + size * n > 16 * 1024 * 1024)
        return 0; /* refuse absurd answers */
    mw_buf_append(b, data, size * n);
    return size * n;
}

/* GET http://ENDPOINT/metrics into body; 0 or -1 with err. */
static int
stats_fetch(const char *endpoint, struct mw_buf *body, struct mw_err *err)
{
    char url[512];
    CURL *c = curl_easy_init();
    CURLcode rc;
    long status = 0;

    if (c == NULL)
        return mw_err_set(err, "curl_easy_init failed");
    snprintf(url, sizeof(url), "http://%s/metrics", endpoint);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, stats_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK)
        return mw_err_set(err, "%s: %s", url, curl_easy_strerror(rc));
    if (status != 200)
        return mw_err_set(err, "%s: HTTP status %ld", url, status);
    return 0;
}

/* Print the sample lines of a Prometheus text body, human or as JSON members. */
static void
stats_print(const char *daemon, const char *body, struct mw_buf *json)
{
    const char *line = body;
    int first = 1;

    if (json != NULL) {
        mw_ctl_json_string(json, daemon);
        mw_buf_puts(json, ":{");
    } else {
        printf("%s:\n", daemon);
    }
    while (*line) {
        size_t len = strcspn(line, "\n");
        const char *sp = memrchr(line, ' ', len);

        if (len > 0 && line[0] != '#' && sp != NULL) {
            char *name = mw_strndup(line, (size_t)(sp - line));
            char *value = mw_strndup(sp + 1, len - (size_t)(sp - line) - 1);
            if (json != NULL) {
                mw_buf_puts(json, first ? "" : ",");
                mw_ctl_json_string(json, name);
                mw_buf_printf(json, ":%s", value);
            } else {
                printf("  %-60s %s\n", name, value);
            }
            first = 0;
            mw_free(&name);
            mw_free(&value);
        }
        line += len + (line[len] == '\n');
    }
    if (json != NULL)
        mw_buf_putc(json, '}');
}

static int
cmd_stats(struct mw_ctl *ctl, int argc, char **argv)
{
    const char *names[2] = {"mailward-milter", "mailward-policyd"};
    const char *endpoints[2];
    struct mw_buf json, body;
    struct mw_err err;
    int reached = 0;

    if (mw_ctl_load_config(ctl) < 0)
        return EX_CONFIG;
    endpoints[0] = mw_config_str(ctl->cfg, "general", "metrics_listen");
    endpoints[1] = mw_config_str(ctl->cfg, "policyd", "metrics_listen");
    mw_buf_init(&json);
    mw_buf_init(&body);
    mw_buf_putc(&json, '{');
    for (int i = 0; i < 2; i++) {
        if (*endpoints[i] == '\0')
            continue;
        mw_buf_reset(&body);
        if (stats_fetch(endpoints[i], &body, &err) < 0) {
            mw_log_warn("%s: %s", names[i], err.text);
            continue;
        }
        if (ctl->json && reached)
            mw_buf_putc(&json, ',');
        stats_print(names[i], body.data, ctl->json ? &json : NULL);
        reached++;
    }
    mw_buf_puts(&json, "}\n");
    if (ctl->json)
        fputs(json.data, stdout);
    mw_buf_release(&json);
    mw_buf_release(&body);
    return reached ? EX_OK : EX_UNAVAILABLE;
}

static int
cmd_version(struct mw_ctl *ctl, int argc, char **argv)
{
    if (ctl->json)
        printf("{\"mailward\":\"%s\"}\n", PACKAGE_VERSION);
    else
        printf("mailwardctl %s\n", PACKAGE_VERSION);
    return EX_OK;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct mw_ctl ctl = {.config_path = MW_SYSCONFDIR "/mailward.conf"};
    int c, rc;

    mw_log_open("mailwardctl", 1);
    /* "+": options only before the command; the command parses its own. */
    while ((c = getopt_long(argc, argv, "+c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            ctl.config_path = optarg;
            ctl.config_given = 1;
            break;
        case 'j':
            ctl.json = 1;
            break;
        case 'h':
            usage(stdout);
            return EX_OK;
        default:
            usage(stderr);
            return EX_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return EX_USAGE;
    }
    for (const struct mw_ctl_command *cmd = commands; cmd->name; cmd++) {
        if (strcmp(cmd->name, argv[optind]) != 0)
            continue;
        curl_global_init(CURL_GLOBAL_DEFAULT);
        rc = cmd->run(&ctl, argc - optind, argv + optind);
        curl_global_cleanup();
        mw_config_free(&ctl.cfg);
        mw_plugins_close(&ctl.schema);
        return rc;
    }
    fprintf(stderr, "mailwardctl: unknown command \"%s\"\n", argv[optind]);
    usage(stderr);
    return EX_USAGE;
}
