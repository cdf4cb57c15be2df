/*
 * config-core.c - declarations of the core configuration sections.
 *
 * [general], [dns], [cache], [milter] and [policyd] are declared here, once,
 * with their defaults and doc strings; mailward.conf(5) documents the same
 * keys. Plugins declare their own sections in their struct mw_plugin.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "mw/addr.h"
#include "mw/alloc.h"
#include "mw/config.h"
#include "mw/net.h"
#include "mw/redis-target.h"


/* "IP[@PORT] ..." */
static int
mw_cfg_check_forwarders(const char *value, struct mw_err *err)
{
    char **v = mw_strv_split(value, NULL);
    int rc = 0;

    for (char **p = v; *p && rc == 0; p++) {
        char ip[64];
        unsigned char buf[16];
        char *at = strchr(*p, '@');
        size_t len = at ? (size_t)(at - *p) : strlen(*p);
        long port = 53;

        if (len >= sizeof(ip)) {
            rc = mw_err_set(err, "\"%s\" is not IP[@PORT]", *p);
            break;
        }
        memcpy(ip, *p, len);
        ip[len] = '\0';
        if (at != NULL) {
            char *end;
            port = strtol(at + 1, &end, 10);
            if (at[1] == '\0' || *end != '\0')
                port = 0;
        }
        if ((inet_pton(AF_INET, ip, buf) != 1 && inet_pton(AF_INET6, ip, buf) != 1) ||
            port < 1 || port > 65535)
            rc = mw_err_set(err, "\"%s\" is not IP[@PORT]", *p);
    }
    mw_strv_free(&v);
    return rc;
}

static const struct mw_cfg_key general_keys[] = {
    {"user", MW_CFG_STRING, "mailward", 0, 0, NULL, NULL,
     "Unprivileged user the daemons switch to after binding their sockets; empty = stay."},
    {"plugin_dir", MW_CFG_STRING, MW_PLUGIN_DIR, 0, 0, NULL, NULL,
     "Directory holding the plugin modules (NAME.so)."},
    {"stats_interval", MW_CFG_INT, "60", 0, 86400, NULL, NULL,
     "Seconds between \"stats:\" syslog lines; 0 = off."},
    {"metrics_listen", MW_CFG_STRING, "127.0.0.1:9469", 0, 0, NULL, mw_endpoint_check,
     "Prometheus endpoint of mailward-milter (HOST:PORT); empty = off. "
     "mailward-policyd uses [policyd] metrics_listen."},
    {"debug", MW_CFG_BOOL, "no", 0, 0, NULL, NULL, "Log debug lines."},
    {NULL, 0, NULL, 0, 0, NULL, NULL, NULL},
};

static const struct mw_cfg_key dns_keys[] = {
    {"forwarders", MW_CFG_LIST, "", 0, 0, NULL, mw_cfg_check_forwarders,
     "Resolvers to forward to, \"IP[@PORT] ...\"; empty = full recursion."},
    {"trust_anchor_file", MW_CFG_STRING, "/usr/share/dns/root.key", 0, 0, NULL, NULL,
     "DNSSEC trust anchor file; empty = no validation (then DANE never applies)."},
    {"timeout_ms", MW_CFG_INT, "5000", 100, 120000, NULL, NULL,
     "Time limit of one DNS lookup in milliseconds."},
    {"answer_cache", MW_CFG_INT, "4096", 0, 1000000, NULL, NULL,
     "Decoded answers kept in process for their TTL, skipping libunbound's thread hand-off; "
     "0 = off."},
    {NULL, 0, NULL, 0, 0, NULL, NULL, NULL},
};

static const struct mw_cfg_key cache_keys[] = {
    {"backend", MW_CFG_ENUM, "memory", 0, 0, "memory|redis", NULL,
     "memory = in-process LRU; redis = shared Redis with the in-process cache in front."},
    {"redis", MW_CFG_STRING, "127.0.0.1:6379", 0, 0, NULL, mw_redis_target_check,
     "Redis server (backend = redis): HOST:PORT, unix:/PATH, or "
     "sentinel://HOST:PORT[,HOST:PORT...]/MASTER to follow the master Redis Sentinel names."},
    {"redis_username", MW_CFG_STRING, "", 0, 0, NULL, NULL,
     "Redis ACL user for AUTH (empty: the default user); used only with redis_password."},
    {"redis_password", MW_CFG_STRING, "", 0, 0, NULL, NULL,
     "Redis password: AUTH [redis_username] redis_password on every connection (empty: no "
     "AUTH). The file must then be mode 0600 (or 0640, group the run user's)."},
    {"redis_prefix", MW_CFG_STRING, "mailward:", 0, 0, NULL, NULL,
     "Prefix of every Redis key."},
    {"redis_timeout_ms", MW_CFG_INT, "250", 10, 60000, NULL, NULL,
     "Connect and command time limit for Redis, in milliseconds."},
    {"memory_max_entries", MW_CFG_INT, "100000", 16, 100000000, NULL, NULL,
     "Entries kept by the in-process cache before the least recently used are dropped."},
    {NULL, 0, NULL, 0, 0, NULL, NULL, NULL},
};

static const struct mw_cfg_key milter_keys[] = {
    {"socket", MW_CFG_STRING, "inet:8891@127.0.0.1", 0, 0, NULL, NULL,
     "libmilter socket: inet:PORT@HOST, inet6:PORT@HOST or unix:PATH."},
    {"authserv_id", MW_CFG_STRING, "", 0, 0, NULL, NULL,
     "authserv-id of Authentication-Results; empty = this host's name."},
    {"internal_hosts", MW_CFG_LIST, "127.0.0.1/32 ::1/128", 0, 0, NULL, mw_cidr_list_check,
     "Clients whose mail is outbound (as is mail after SMTP AUTH)."},
    {"plugins", MW_CFG_LIST, "", 0, 0, NULL, NULL, "Plugins run on every message, in order."},
    {"pid_file", MW_CFG_STRING, MW_RUNSTATEDIR "/mailward/mailward-milter.pid", 0, 0, NULL, NULL,
     "PID file; empty = none."},
    {"timeout", MW_CFG_INT, "300", 1, 86400, NULL, NULL,
     "Seconds libmilter waits for the MTA before dropping a connection."},
    {"drain_timeout", MW_CFG_INT, "30", 0, 3600, NULL, NULL,
     "Seconds SIGTERM waits for messages in progress before exiting."},
    {"max_headers", MW_CFG_INT, "1000", 1, 1000000, NULL, NULL,
     "Header fields a message may have; more: rejected 552 5.3.4."},
    {"max_header_size", MW_CFG_INT, "65536", 256, 1048000, NULL, NULL,
     "Bytes of one header field (name and value); more: rejected 552 5.3.4."},
    {NULL, 0, NULL, 0, 0, NULL, NULL, NULL},
};

static const struct mw_cfg_key policyd_keys[] = {
    {"socketmap_listen", MW_CFG_STRING, "127.0.0.1:8461", 0, 0, NULL, mw_endpoint_check,
     "socketmap server for smtp_tls_policy_maps; empty = off."},
    {"policy_listen", MW_CFG_STRING, "127.0.0.1:10040", 0, 0, NULL, mw_endpoint_check,
     "Policy delegation server for check_policy_service; empty = off."},
    {"plugins", MW_CFG_LIST, "dane mta-sts tls-rules", 0, 0, NULL, NULL,
     "Plugins asked in order; the first with an answer wins (DANE before MTA-STS, RFC 8461)."},
    {"pid_file", MW_CFG_STRING, MW_RUNSTATEDIR "/mailward/mailward-policyd.pid", 0, 0, NULL, NULL,
     "PID file; empty = none."},
    {"metrics_listen", MW_CFG_STRING, "127.0.0.1:9470", 0, 0, NULL, mw_endpoint_check,
     "Prometheus endpoint of mailward-policyd; empty = off."},
    {"idle_timeout", MW_CFG_INT, "300", 1, 86400, NULL, NULL,
     "Seconds a client connection may stay idle before it is closed."},
    {"request_timeout", MW_CFG_INT, "30", 1, 3600, NULL, NULL,
     "Seconds a lookup may take before TEMP is answered."},
    {"max_connections", MW_CFG_INT, "20000", 1, 1000000, NULL, NULL,
     "Client connections served at once; more wait in the listen queue."},
    {"max_connections_per_client", MW_CFG_INT, "1000", 0, 1000000, NULL, NULL,
     "Connections one client address may hold open; more are closed at once. 0 = no limit."},
    {"drain_timeout", MW_CFG_INT, "10", 0, 3600, NULL, NULL,
     "Seconds SIGTERM waits for lookups in progress before exiting."},
    {NULL, 0, NULL, 0, 0, NULL, NULL, NULL},
};

static const struct mw_cfg_key publish_keys[] = {
    {"listen", MW_CFG_STRING, "", 0, 0, NULL, mw_endpoint_check,
     "HTTPS listener of mailward-policyd for the policies below, e.g. 0.0.0.0:443; empty = off."},
    {"domains", MW_CFG_LIST, "", 0, 0, NULL, NULL,
     "Domains served with mode, mx and max_age below (policy_file lists more)."},
    {"mode", MW_CFG_ENUM, "testing", 0, 0, "testing|enforce|none", NULL,
     "Policy mode of the domains of \"domains\"."},
    {"mx", MW_CFG_LIST, "", 0, 0, NULL, NULL,
     "mx patterns of the domains of \"domains\" (host or *.host); required with domains."},
    {"max_age", MW_CFG_INT, "604800", 0, 31557600, NULL, NULL,
     "Policy max_age in seconds of the domains of \"domains\"."},
    {"cert_file", MW_CFG_STRING, "", 0, 0, NULL, NULL,
     "PEM certificate chain for mta-sts.DOMAIN of every domain without its own cert."},
    {"key_file", MW_CFG_STRING, "", 0, 0, NULL, NULL, "PEM private key of cert_file."},
    {"policy_file", MW_CFG_STRING, "", 0, 0, NULL, NULL,
     "Per-domain policies, one line each, written by \"mailwardctl sts init\"; empty = none."},
    {"report_path", MW_CFG_STRING, "/tlsrpt", 0, 0, NULL, NULL,
     "URL path where TLS reports (RFC 8460) are accepted by POST; empty = none."},
    {"hsts_max_age", MW_CFG_INT, "31536000", 0, 315360000, NULL, NULL,
     "max-age of the Strict-Transport-Security header."},
    {"timeout", MW_CFG_INT, "10", 1, 600, NULL, NULL,
     "Seconds a client may take for the TLS handshake and each read or write."},
    {"max_header_size", MW_CFG_INT, "8192", 1024, 65536, NULL, NULL,
     "Bytes of request line and headers; larger requests are refused."},
    {"max_body_size", MW_CFG_INT, "1048576", 0, 5242880, NULL, NULL,
     "Bytes of a request body (a TLS report); larger ones get 413."},
    {NULL, 0, NULL, 0, 0, NULL, NULL, NULL},
};

static const struct mw_cfg_section general_section = {"general", "Both daemons.", general_keys};
static const struct mw_cfg_section dns_section = {"dns", "The shared resolver.", dns_keys};
static const struct mw_cfg_section cache_section = {"cache", "The shared cache.", cache_keys};
static const struct mw_cfg_section milter_section = {"milter", "mailward-milter.", milter_keys};
static const struct mw_cfg_section policyd_section = {"policyd", "mailward-policyd.",
                                                      policyd_keys};
static const struct mw_cfg_section publish_section = {
    "mta-sts-publish", "mailward-policyd serving our own MTA-STS policies.", publish_keys};

const struct mw_cfg_section *const mw_cfg_core_sections[] = {
    &general_section, &dns_section, &cache_section, &milter_section, &policyd_section, &publish_section, NULL,
};
