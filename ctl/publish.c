/*
 * publish.c - "mailwardctl sts init" and "mailwardctl tlsa": what a domain
 * publishes so that senders must use TLS to reach it.
 *
 *   sts init DOMAIN [--mode M] [--max-age N] [--mx PATTERN]... [--rua URI]
 *            [--policy-file FILE]
 *       The domain's MX records (through the configured resolver) become
 *       the mx patterns (unless --mx names them); the site line for DOMAIN
 *       in [mta-sts-publish] policy_file is written or replaced (other lines
 *       are kept; comments are not), then the DNS records to publish are
 *       printed. The policy id is kept while the served policy stays the
 *       same and is fresh when it changes (RFC 8461 section 3.1: a sender
 *       fetches the policy again only when the id changes), and the output
 *       says which.
 *   tlsa CERTFILE|HOST:PORT [--next NEWCERT] [--mx NAME]
 *       The "3 1 1" TLSA record of the certificate (a file, or what the SMTP
 *       server HOST:PORT presents after STARTTLS); with --next, the record of
 *       the next certificate too and the order of a rollover.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "mw/alloc.h"
#include "mw/dns.h"
#include "mw/log.h"
#include "mw/net.h"
#include "ctl.h"
#include "publish-table.h"
#include "tlsa.h"

/* Write every site to path through a temporary file and rename. */
static int
mw_ctl_write_table(const char *path, const struct mw_sts_table *t, struct mw_err *err)
{
    struct mw_buf text, tmp;
    FILE *fp;
    int rc = 0;

    mw_buf_init(&text);
    mw_buf_init(&tmp);
    mw_buf_puts(&text, "# MTA-STS policies served by mailward-policyd ([mta-sts-publish] "
                       "policy_file, see mailward.conf(5)).\n# Written by \"mailwardctl sts "
                       "init\"; reload mailward-policyd (SIGHUP) after a change.\n");
    for (size_t i = 0; i < t->n; i++)
        mw_sts_site_format(&t->sites[i], &text);
    mw_buf_printf(&tmp, "%s.tmp", path);
    if ((fp = fopen(tmp.data, "w")) == NULL || fwrite(text.data, 1, text.len, fp) != text.len ||
        fclose(fp) != 0 || rename(tmp.data, path) != 0)
        rc = mw_err_set(err, "cannot write %s: %s", path, strerror(errno));
    mw_buf_release(&text);
    mw_buf_release(&tmp);
    return rc;
}

/* The MX hosts of domain as mx patterns (lower case, no final dot, no repeats). */
static int
mw_ctl_sts_mx(struct mw_ctl *ctl, const char *domain, struct mw_sts_site *s, struct mw_err *err)
{
    struct mw_dns *dns = mw_dns_open(ctl->cfg, err);
    struct mw_dns_answer *a = NULL;
    struct mw_dns_mx mx;
    int rc = 0;

    if (dns == NULL)
        return -1;
    if (mw_dns_resolve(dns, domain, MW_DNS_MX, &a, err) < 0 || a->status != MW_DNS_OK ||
        a->count == 0) {
        rc = mw_err_set(err, "%s: no MX records (%s): name the hosts with --mx", domain,
                        a ? mw_dns_status_name(a->status) : err->text);
        goto out;
    }
    s->mx = mw_calloc(a->count + 1, sizeof(*s->mx));
    for (size_t i = 0; i < a->count && rc == 0; i++) {
        if (mw_dns_mx_decode(a->rr[i].data, a->rr[i].len, &mx, err) < 0)
            rc = -1;
        else if (strcmp(mx.exchange, ".") == 0)
            rc = mw_err_set(err, "%s has a null MX: it receives no mail", domain);
        for (char *p = mx.exchange; rc == 0 && *p; p++)
            *p = (char)tolower((unsigned char)*p);
        for (size_t j = 0; rc == 0 && j < s->nmx; j++)
            if (strcmp(s->mx[j], mx.exchange) == 0)
                goto next;
        if (rc == 0 && (rc = mw_sts_mx_check(mx.exchange, err)) == 0)
            s->mx[s->nmx++] = mw_strdup(mx.exchange);
    next:;
    }
out:
    mw_dns_answer_free(&a);
    mw_dns_close(&dns);
    return rc;
}

/* A fresh policy id: UTC time and random hex, 20 letters and digits. */
static void
mw_ctl_sts_id(char id[MW_STS_ID_MAX + 1])
{
    unsigned char r[3];
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(id, MW_STS_ID_MAX + 1, "%Y%m%dT%H%M%S", &tm);
    if (RAND_bytes(r, sizeof(r)) != 1)
        mw_log_panic("RAND_bytes failed");
    snprintf(id + strlen(id), MW_STS_ID_MAX + 1 - strlen(id), "%02x%02x%02x", r[0], r[1], r[2]);
}

/* Print the policy and the DNS records of s; what changed decides the advice. */
static void
mw_ctl_sts_print(const struct mw_sts_site *s, const struct mw_sts_site *old, const char *path,
                 const char *rua)
{
    struct mw_buf policy;

    mw_buf_init(&policy);
    mw_sts_site_policy(s, &policy);
    printf("policy of %s (%s), served at https://mta-sts.%s/.well-known/mta-sts.txt:\n%s\n",
           s->domain, path, s->domain, policy.data);
    mw_buf_release(&policy);
    if (old == NULL)
        printf("new policy, id %s\n", s->id);
    else if (strcmp(old->id ? old->id : "", s->id) == 0)
        printf("the policy is unchanged: keep id %s\n", s->id);
    else
        printf("the policy changed: its id must change (RFC 8461 section 3.1), from %s to %s;\n"
               "reload mailward-policyd (SIGHUP) first, then publish the new _mta-sts record\n",
               old->id ? old->id : "(none)", s->id);
    printf("\nDNS records to publish:\n");
    printf("mta-sts.%s.\tIN A\t; the address of mailward-policyd's [mta-sts-publish] listen\n",
           s->domain);
    printf("_mta-sts.%s.\tIN TXT\t\"v=STSv1; id=%s\"\n", s->domain, s->id);
    printf("_smtp._tls.%s.\tIN TXT\t\"v=TLSRPTv1; rua=%s\"\n", s->domain, rua);
}

/* Build the new site, merge it into the policy file, print; a sysexits code. */
static int
mw_ctl_sts_write(struct mw_ctl *ctl, struct mw_sts_site *s, const char *path, const char *rua)
{
    struct mw_sts_table t;
    struct mw_sts_site *old, keep;
    struct mw_err err;
    char id[MW_STS_ID_MAX + 1];
    int rc;

    (void)ctl;
    if (mw_sts_table_load(path, 1, &t, &err) < 0) {
        mw_log_error("%s", err.text);
        return EX_DATAERR;
    }
    memset(&keep, 0, sizeof(keep));
    if ((old = mw_sts_table_find(&t, s->domain)) != NULL) {
        s->cert = old->cert ? mw_strdup(old->cert) : NULL;
        s->key = old->key ? mw_strdup(old->key) : NULL;
        if (old->id != NULL && mw_sts_site_same_policy(old, s))
            s->id = mw_strdup(old->id);
        keep.domain = old->domain, keep.id = old->id;
    }
    if (s->id == NULL) {
        mw_ctl_sts_id(id);
        s->id = mw_strdup(id);
    }
    keep.domain = keep.domain ? mw_strdup(keep.domain) : NULL;
    keep.id = keep.id ? mw_strdup(keep.id) : NULL;
    mw_sts_table_put(&t, s);
    rc = mw_ctl_write_table(path, &t, &err);
    mw_sts_table_release(&t);
    if (rc < 0) {
        mw_log_error("%s", err.text);
        mw_sts_site_release(&keep);
        return EX_CANTCREAT;
    }
    mw_ctl_sts_print(s, keep.domain ? &keep : NULL, path, rua);
    mw_sts_site_release(&keep);
    return EX_OK;
}

/* The options of "sts init" into s, *path, *rua and ctl; 0, or -1 for a usage error. */
static int
mw_ctl_sts_options(struct mw_ctl *ctl, int argc, char **argv, struct mw_sts_site *s,
                   const char **path, const char **rua)
{
    static const struct option longopts[] = {
        {"mode", required_argument, NULL, 'm'},
        {"max-age", required_argument, NULL, 'a'},
        {"mx", required_argument, NULL, 'x'},
        {"rua", required_argument, NULL, 'r'},
        {"policy-file", required_argument, NULL, 'f'},
        {"config", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };
    struct mw_err err;
    char *end;
    int ch;

    optind = 0;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (ch == 'm' &&
            (!strcmp(optarg, "testing") || !strcmp(optarg, "enforce") || !strcmp(optarg, "none"))) {
            mw_free(&s->mode);
            s->mode = mw_strdup(optarg);
        } else if (ch == 'a' && (s->max_age = strtol(optarg, &end, 10)) >= 0 && *end == '\0' &&
                   s->max_age <= MW_STS_MAX_AGE_MAX && *optarg != '\0') {
            continue;
        } else if (ch == 'x' && mw_sts_mx_check(optarg, &err) == 0 && s->nmx < MW_STS_MX_MAX) {
            s->mx = mw_reallocarray(s->mx, s->nmx + 2, sizeof(*s->mx));
            s->mx[s->nmx++] = mw_strdup(optarg);
            s->mx[s->nmx] = NULL;
        } else if (ch == 'r' &&
                   (!strncmp(optarg, "mailto:", 7) || !strncmp(optarg, "https://", 8))) {
            *rua = optarg;
        } else if (ch == 'f') {
            *path = optarg;
        } else if (ch == 'c') {
            ctl->config_path = optarg;
            ctl->config_given = 1;
        } else {
            if (ch == 'r')
                fprintf(stderr, "mailwardctl sts init: --rua is mailto:ADDRESS or https://URL\n");
            return -1;
        }
    }
    return 0;
}

int
mw_ctl_cmd_sts(struct mw_ctl *ctl, int argc, char **argv)
{
    struct mw_sts_site s = {.max_age = 604800};
    const char *path = NULL, *rua = NULL;
    char domain[MW_DNS_NAME_TEXT], ruabuf[MW_DNS_NAME_TEXT + 32];
    struct mw_err err;
    int rc = EX_USAGE;

    if (mw_ctl_sts_options(ctl, argc, argv, &s, &path, &rua) < 0 || optind + 2 != argc ||
        strcmp(argv[optind], "init") != 0 || strlen(argv[optind + 1]) >= sizeof(domain))
        goto usage;
    snprintf(domain, sizeof(domain), "%s", argv[optind + 1]);
    for (char *p = domain; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (mw_sts_domain_check(domain, &err) < 0) {
        fprintf(stderr, "mailwardctl sts init: %s\n", err.text);
        goto usage;
    }
    s.domain = mw_strdup(domain);
    if (s.mode == NULL)
        s.mode = mw_strdup("testing");
    if (mw_ctl_load_config(ctl) < 0) {
        rc = EX_CONFIG;
        goto out;
    }
    if (path == NULL)
        path = mw_config_str(ctl->cfg, "mta-sts-publish", "policy_file");
    if (*path == '\0') {
        fprintf(stderr, "mailwardctl sts init: set [mta-sts-publish] policy_file (e.g. "
                        "/etc/mailward/mta-sts-policies) or give --policy-file\n");
        rc = EX_CONFIG;
        goto out;
    }
    if (s.mx == NULL && mw_ctl_sts_mx(ctl, domain, &s, &err) < 0) {
        mw_log_error("%s", err.text);
        rc = EX_UNAVAILABLE;
        goto out;
    }
    if (rua == NULL) {
        snprintf(ruabuf, sizeof(ruabuf), "mailto:tlsrpt@%s", domain);
        rua = ruabuf;
    }
    rc = mw_ctl_sts_write(ctl, &s, path, rua);
    goto out;
usage:
    fprintf(stderr, "usage: mailwardctl [-c FILE] sts init DOMAIN [--mode testing|enforce|none] "
                    "[--max-age N] [--mx PATTERN]... [--rua URI] [--policy-file FILE]\n");
out:
    mw_sts_site_release(&s);
    return rc;
}

/* The certificate of a file or of "HOST:PORT"; *port gets the port (25 for a file). */
static int
mw_ctl_tlsa_cert(const char *what, X509 **x, char *host, size_t hostlen, char *port, size_t portlen,
                 struct mw_err *err)
{
    const char *colon = strrchr(what, ':');
    struct mw_endpoint ep;

    if (colon == NULL || strchr(what, '/') != NULL) {
        snprintf(port, portlen, "25");
        host[0] = '\0';
        return mw_tlsa_cert_file(what, x, err);
    }
    if (mw_endpoint_parse(what, &ep, err) < 0 || ep.is_unix)
        return mw_err_set(err, "\"%.80s\": expected CERTFILE or HOST:PORT", what);
    snprintf(host, hostlen, "%s", ep.host);
    snprintf(port, portlen, "%s", ep.port);
    return mw_tlsa_smtp_cert(ep.host, ep.port, ep.host, 10000, x, err);
}

/* The first DNS name of x's subjectAltName, or "" */
static void
mw_ctl_tlsa_san(X509 *x, char *out, size_t len)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);

    out[0] = '\0';
    for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names) && !out[0]; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        if (g->type == GEN_DNS && ASN1_STRING_length(g->d.dNSName) < (int)len)
            snprintf(out, len, "%.*s", ASN1_STRING_length(g->d.dNSName),
                     (const char *)ASN1_STRING_get0_data(g->d.dNSName));
    }
    GENERAL_NAMES_free(names);
}

static void
mw_ctl_tlsa_print(X509 *cur, X509 *next, const char *owner)
{
    char a[65], b[65];

    mw_tlsa_hex(cur, a);
    printf("%s IN TLSA 3 1 1 %s\n", owner, a);
    if (next == NULL)
        return;
    mw_tlsa_hex(next, b);
    if (strcmp(a, b) == 0) {
        printf("; the next certificate has the same public key: the record stays valid,\n"
               "; install the new certificate whenever you like\n");
        return;
    }
    printf("%s IN TLSA 3 1 1 %s\n", owner, b);
    printf("; rollover, in this order:\n"
           ";  1. publish both records above (current and next) in the signed zone\n"
           ";  2. wait until every resolver has the new RRset: at least twice its TTL\n"
           ";  3. install the next certificate on the MX and reload the MTA\n"
           ";  4. check (mailwardctl check DOMAIN), then remove the record of the old one:\n"
           ";     %s IN TLSA 3 1 1 %s\n",
           owner, a);
}

int
mw_ctl_cmd_tlsa(struct mw_ctl *ctl, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"next", required_argument, NULL, 'n'},
        {"mx", required_argument, NULL, 'x'},
        {NULL, 0, NULL, 0},
    };
    const char *next_file = NULL, *mx = NULL;
    char host[256], port[8], name[256], owner[300];
    X509 *cur = NULL, *next = NULL;
    struct mw_err err;
    unsigned char a[16];
    int ch, rc = EX_OK;

    (void)ctl;
    optind = 0;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (ch == 'n')
            next_file = optarg;
        else if (ch == 'x' && mw_sts_domain_check(optarg, &err) == 0)
            mx = optarg;
        else
            goto usage;
    }
    if (optind + 1 != argc)
        goto usage;
    if (mw_ctl_tlsa_cert(argv[optind], &cur, host, sizeof(host), port, sizeof(port), &err) < 0 ||
        (next_file != NULL && mw_tlsa_cert_file(next_file, &next, &err) < 0)) {
        mw_log_error("%s", err.text);
        rc = EX_UNAVAILABLE;
        goto out;
    }
    if (mx != NULL)
        snprintf(name, sizeof(name), "%s", mx);
    else if (host[0] && inet_pton(AF_INET, host, a) != 1 && inet_pton(AF_INET6, host, a) != 1)
        snprintf(name, sizeof(name), "%s", host);
    else
        mw_ctl_tlsa_san(cur, name, sizeof(name));
    if (name[0] == '\0' || mw_sts_domain_check(name, &err) < 0) {
        mw_log_error("name the MX host with --mx (no usable host name in the certificate)");
        rc = EX_USAGE;
        goto out;
    }
    snprintf(owner, sizeof(owner), "_%s._tcp.%s.", port, name);
    mw_ctl_tlsa_print(cur, next, owner);
    goto out;
usage:
    fprintf(stderr, "usage: mailwardctl tlsa CERTFILE|HOST:PORT [--next NEWCERT] [--mx NAME]\n");
    rc = EX_USAGE;
out:
    X509_free(cur);
    X509_free(next);
    return rc;
}
