/*
 * dkim.c - the dkim plugin: DKIM verification (RFC 6376) of inbound mail,
 * signing of outbound mail (sign.h, keys.c, sign.c, keytable.c).
 *
 * DESCRIPTION
 *   For every inbound message (mw_msg_direction() == MW_INBOUND) the plugin
 *   feeds the headers and the body, chunk by chunk as the MTA sends them (the
 *   message is never buffered whole), to a libopendkim verifying handle. At
 *   end of message it records, per DKIM-Signature:
 *     - one Authentication-Results entry (RFC 8601):
 *         dkim=RESULT header.d=D header.s=S header.a=A header.b=FIRST8
 *       or a single "dkim=none" for an unsigned message;
 *     - one structured result (mw_msg_auth_add) that DMARC reads;
 *     - one log item "dkim=RESULT:D:S" (or "dkim=none").
 *   RESULT is one of pass fail neutral temperror permerror (mw_dkim_result());
 *   an rsa-sha1 signature is a fail whatever its math (RFC 8301 §3.1).
 *
 *   Public keys are fetched through the host's resolver (mw/dns.h), never
 *   through libopendkim's own libresolv: the query callbacks below turn a
 *   blocking mw_dns_resolve() answer into the DNS message libopendkim
 *   parses. That keeps one cache and one DNSSEC validator for every check.
 *
 *   The milter host does not negotiate SMFIP_HDR_LEADSPC, so libmilter hands
 *   over a header value without the blank after the colon and with its line
 *   breaks as bare LF. mw_dkim_header_line() rebuilds "Name: value" with CRLF
 *   folding, as the message was on the wire for the usual one-blank form
 *   (relaxed header canonicalization is immune to the difference; simple
 *   canonicalization of a header written "Name:value" cannot be rebuilt).
 *
 *   For every outbound message (MW_OUTBOUND: internal_hosts or SMTP AUTH)
 *   with a signing configuration, the headers and body go to a signer
 *   (sign.h) that adds one DKIM-Signature per matching SigningTable line.
 *
 *   Configuration, section [dkim]:
 *     verify           = yes   check signatures of inbound mail
 *     key_table        =       OpenDKIM KeyTable file
 *     signing_table    =       OpenDKIM SigningTable file ("refile:PATH": wildcards)
 *     sign             = yes   sign outbound mail when both tables are set
 *     canonicalization = relaxed/relaxed
 *     sign_headers     =       (h=; empty: MW_DKIM_SIGN_HEADERS)
 *     oversign_headers = From  (listed once more than present, RFC 6376 §8.15)
 *
 * MEMORY
 *   The per-message state (struct mw_dkim_msg, the libopendkim handle) lives in
 *   the message's plugin slot and is freed by the done hook. Results handed
 *   to mw_msg_* are copied by the host.
 *
 * THREADS
 *   One DKIM_LIB serves every connection thread (libopendkim allows that);
 *   each message has its own handle. Settings change only in configure(),
 *   which the host never runs while a hook runs.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/time.h>

#include <opendkim/dkim.h>

#include "dkim/sign.h"
#include "mailward-plugin.h"
#include "mw/alloc.h"
#include "mw/buf.h"
#include "mw/dns.h"
#include "mw/log.h"

struct mw_dkim_state {
    const struct mw_host *host; /* host->dns is set only before the first hook */
    DKIM_LIB *lib;
    bool verify;
    struct mw_dkim_signcfg *sign; /* NULL: no signing */
};

struct mw_dkim_msg {
    DKIM *dkim;                    /* NULL: not verifying this message */
    bool nosig;                    /* libopendkim found no signature at end of headers */
    bool failed;                   /* libopendkim refused a header or the body: no result */
    DKIM_STAT st;                  /* the status that made it fail */
    struct mw_dkim_signer *signer; /* outbound: signing this message */
};

/* One DNS query: the answer is written into libopendkim's buffer at start. */
struct mw_dkim_query {
    int status; /* DKIM_DNS_SUCCESS or DKIM_DNS_ERROR */
    size_t len; /* bytes of the DNS message */
    int dnssec; /* DKIM_DNSSEC_* */
};

static const struct mw_cfg_key mw_dkim_keys[] = {
    {"verify", MW_CFG_BOOL, "yes", 0, 0, NULL, NULL,
     "Verify the DKIM signatures of inbound mail and report them in Authentication-Results."},
    {"key_table", MW_CFG_STRING, "", 0, 0, NULL, NULL,
     "OpenDKIM KeyTable file: lines \"NAME DOMAIN:SELECTOR:KEYPATH\" (key files mode 0600)."},
    {"signing_table", MW_CFG_STRING, "", 0, 0, NULL, NULL,
     "OpenDKIM SigningTable file: lines \"PATTERN NAME\"; \"refile:PATH\" makes PATTERN a "
     "wildcard such as *@example.com, every matching line signs."},
    {"sign", MW_CFG_BOOL, "yes", 0, 0, NULL, NULL,
     "Sign outbound mail (internal_hosts or SMTP AUTH) when key_table and signing_table are set."},
    {"canonicalization", MW_CFG_ENUM, "relaxed/relaxed", 0, 0,
     "relaxed/relaxed|relaxed/simple|simple/relaxed|simple/simple|relaxed|simple", NULL,
     "Header/body canonicalization of our signatures (c=)."},
    {"sign_headers", MW_CFG_LIST, "", 0, 0, NULL, mw_dkim_header_names_check,
     "Headers our signatures cover when present (h=); must include From. "
     "Empty: " MW_DKIM_SIGN_HEADERS "."},
    {"oversign_headers", MW_CFG_LIST, "From", 0, 0, NULL, mw_dkim_header_names_check,
     "Headers signed once more than present, so none can be added (RFC 6376 section 8.15)."},
    {NULL, 0, NULL, 0, 0, NULL, NULL, NULL},
};
static const struct mw_cfg_section mw_dkim_section = {"dkim", "DKIM verification and signing.",
                                                      mw_dkim_keys};
static const struct mw_cfg_section *const mw_dkim_sections[] = {&mw_dkim_section, NULL};

/* ---- DNS: libopendkim's query callbacks on top of mw_dns_resolve() ---- */

/* Append name (presentation form, no escapes: mw_dns_name_check passed) as wire labels. */
static int
mw_dkim_put_name(struct mw_buf *pkt, const char *name)
{
    const char *p = name;

    while (*p != '\0') {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);

        if (n == 0 || n > 63)
            return -1;
        mw_buf_putc(pkt, (int)n);
        mw_buf_append(pkt, p, n);
        p += n + (dot != NULL);
    }
    mw_buf_putc(pkt, 0);
    return 0;
}

static void
mw_dkim_put16(struct mw_buf *pkt, unsigned int v)
{
    unsigned char b[2] = {(unsigned char)(v >> 8), (unsigned char)v};

    mw_buf_append(pkt, b, 2);
}

/*
 * Build the DNS message libopendkim parses (dkim_get_key_dns): header,
 * the question, and the TXT records, each owner a pointer to the question.
 */
static int
mw_dkim_packet(const struct mw_dns_answer *a, struct mw_buf *pkt)
{
    uint32_t ttl = htonl(a->ttl);

    mw_dkim_put16(pkt, 0);                                               /* id */
    mw_dkim_put16(pkt, 0x8180 | (a->status == MW_DNS_NXDOMAIN ? 3 : 0)); /* QR RD RA, rcode */
    mw_dkim_put16(pkt, 1);
    mw_dkim_put16(pkt, (unsigned int)(a->status == MW_DNS_OK ? a->count : 0));
    mw_dkim_put16(pkt, 0);
    mw_dkim_put16(pkt, 0);
    if (mw_dkim_put_name(pkt, a->qname) < 0)
        return -1;
    mw_dkim_put16(pkt, MW_DNS_TXT);
    mw_dkim_put16(pkt, 1);
    for (size_t i = 0; a->status == MW_DNS_OK && i < a->count; i++) {
        if (a->rr[i].len > 0xffff)
            return -1;
        mw_dkim_put16(pkt, 0xc00c);
        mw_dkim_put16(pkt, MW_DNS_TXT);
        mw_dkim_put16(pkt, 1);
        mw_buf_append(pkt, &ttl, 4);
        mw_dkim_put16(pkt, (unsigned int)a->rr[i].len);
        mw_buf_append(pkt, a->rr[i].data, a->rr[i].len);
    }
    return 0;
}

/* Resolve now (blocking, the host's timeout_ms bounds it); waitreply reports. */
static int
mw_dkim_dns_start(void *srv, int type, unsigned char *query, unsigned char *buf, size_t buflen,
                  void **qh)
{
    const struct mw_host *host = srv;
    struct mw_dkim_query *q = mw_calloc(1, sizeof(*q));
    struct mw_dns_answer *a = NULL;
    struct mw_err err;
    struct mw_buf pkt;

    *qh = q;
    q->status = DKIM_DNS_ERROR;
    q->dnssec = DKIM_DNSSEC_UNKNOWN;
    if (host->dns == NULL || type != MW_DNS_TXT) {
        mw_log_warn("dkim: no resolver for %s", (const char *)query);
        return 0;
    }
    if (mw_dns_resolve(host->dns, (const char *)query, MW_DNS_TXT, &a, &err) < 0) {
        mw_log_info("dkim: key query %s: %s", (const char *)query, err.text);
        return 0;
    }
    if (a->status == MW_DNS_OK || a->status == MW_DNS_NXDOMAIN || a->status == MW_DNS_NODATA) {
        mw_buf_init(&pkt);
        if (mw_dkim_packet(a, &pkt) == 0 && pkt.len <= buflen) {
            memcpy(buf, pkt.data, pkt.len);
            q->len = pkt.len;
            q->status = DKIM_DNS_SUCCESS;
            q->dnssec = a->dnssec == MW_DNSSEC_SECURE ? DKIM_DNSSEC_SECURE : DKIM_DNSSEC_INSECURE;
        } else {
            mw_log_info("dkim: key query %s: answer too large", (const char *)query);
        }
        mw_buf_release(&pkt);
    } else {
        mw_log_info("dkim: key query %s: %s", (const char *)query, mw_dns_status_name(a->status));
    }
    mw_dns_answer_free(&a);
    return 0;
}

static int
mw_dkim_dns_wait(void *srv, void *qh, struct timeval *to, size_t *bytes, int *error, int *dnssec)
{
    const struct mw_dkim_query *q = qh;

    if (bytes != NULL)
        *bytes = q->len;
    if (error != NULL)
        *error = 0;
    if (dnssec != NULL)
        *dnssec = q->dnssec;
    return q->status;
}

/* libopendkim cancels every query once it has read the answer: free it here. */
static int
mw_dkim_dns_cancel(void *srv, void *qh)
{
    mw_free(&qh);
    return 0;
}

/* The host owns the resolver: libopendkim must neither open nor close one. */
static void
mw_dkim_dns_close(void *srv)
{
}

/* ---- lifecycle ---- */

static int
mw_dkim_init(const struct mw_host *host, void **state, struct mw_err *err)
{
    struct mw_dkim_state *s;
    unsigned int flags = DKIM_LIBFLAGS_BADSIGHANDLES;
    DKIM_LIB *lib = dkim_init(NULL, NULL);

    if (lib == NULL)
        return mw_err_set(err, "dkim: libopendkim initialisation failed");
    if (dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags)) != DKIM_STAT_OK) {
        dkim_close(lib);
        return mw_err_set(err, "dkim: cannot set libopendkim flags");
    }
    s = mw_calloc(1, sizeof(*s));
    s->host = host;
    s->lib = lib;
    dkim_dns_set_init(lib, NULL);
    dkim_dns_set_close(lib, mw_dkim_dns_close);
    dkim_dns_set_query_service(lib, (void *)host);
    dkim_dns_set_query_start(lib, mw_dkim_dns_start);
    dkim_dns_set_query_waitreply(lib, mw_dkim_dns_wait);
    dkim_dns_set_query_cancel(lib, mw_dkim_dns_cancel);
    *state = s;
    return 0;
}

static int
mw_dkim_configure(void *state, const struct mw_config *cfg, struct mw_err *err)
{
    struct mw_dkim_state *s = state;
    struct mw_dkim_signcfg *sign;

    /* All or nothing: on an error the previous settings stay. */
    if (mw_dkim_signcfg_load(cfg, &sign, err) < 0)
        return -1;
    mw_dkim_signcfg_unref(&s->sign);
    s->sign = sign;
    s->verify = mw_config_bool(cfg, "dkim", "verify");
    if (sign != NULL)
        mw_log_info("dkim: signing with %zu key(s), %zu signing table line(s)", sign->kt->n,
                    mw_dkim_signtable_count(sign->st));
    return 0;
}

static void
mw_dkim_fini(void **state)
{
    struct mw_dkim_state *s = *state;

    if (s == NULL)
        return;
    dkim_close(s->lib);
    mw_dkim_signcfg_unref(&s->sign);
    mw_free(state);
}

/* ---- per message ---- */

/* The message's state; creates the verifying handle at the first header. */
static struct mw_dkim_msg *
mw_dkim_msg_get(struct mw_dkim_state *s, struct mw_msg *m)
{
    void **slot = mw_msg_data(m);
    struct mw_dkim_msg *dm = *slot;
    DKIM_STAT st = DKIM_STAT_OK;

    if (dm != NULL)
        return dm;
    if (mw_msg_direction(m) == MW_OUTBOUND) {
        if (s->sign == NULL)
            return NULL;
        dm = mw_calloc(1, sizeof(*dm));
        *slot = dm;
        dm->signer = mw_dkim_signer_new(s->sign);
        return dm;
    }
    if (!s->verify)
        return NULL;
    dm = mw_calloc(1, sizeof(*dm));
    *slot = dm;
    dm->dkim = dkim_verify(s->lib, (const unsigned char *)mw_msg_queue_id(m), NULL, &st);
    if (dm->dkim == NULL) {
        dm->failed = true;
        dm->st = st;
    }
    return dm;
}

static bool
mw_dkim_active(const struct mw_dkim_msg *dm)
{
    return dm != NULL && dm->dkim != NULL && !dm->failed && !dm->nosig;
}

static enum mw_verdict
mw_dkim_header_hook(void *state, struct mw_msg *m, const char *name, const char *value)
{
    struct mw_dkim_msg *dm = mw_dkim_msg_get(state, m);
    struct mw_buf line;
    DKIM_STAT st;

    if (dm != NULL && dm->signer != NULL) {
        mw_buf_init(&line);
        mw_dkim_header_line(&line, name, value);
        mw_dkim_signer_header(dm->signer, name, value, line.data, line.len);
        mw_buf_release(&line);
        return MW_CONTINUE;
    }
    if (!mw_dkim_active(dm))
        return MW_CONTINUE;
    mw_buf_init(&line);
    mw_dkim_header_line(&line, name, value);
    st = dkim_header(dm->dkim, (unsigned char *)line.data, line.len);
    mw_buf_release(&line);
    if (st != DKIM_STAT_OK) {
        dm->failed = true;
        dm->st = st;
    }
    return MW_CONTINUE;
}

static enum mw_verdict
mw_dkim_eoh_hook(void *state, struct mw_msg *m)
{
    struct mw_dkim_msg *dm = mw_dkim_msg_get(state, m);
    DKIM_STAT st;

    if (dm != NULL && dm->signer != NULL) {
        mw_dkim_signer_eoh(dm->signer, m);
        return MW_CONTINUE;
    }
    if (!mw_dkim_active(dm))
        return MW_CONTINUE;
    st = dkim_eoh(dm->dkim);
    if (st == DKIM_STAT_NOSIG) {
        dm->nosig = true;
    } else if (st != DKIM_STAT_OK) {
        dm->failed = true;
        dm->st = st;
    }
    return MW_CONTINUE;
}

static enum mw_verdict
mw_dkim_body_hook(void *state, struct mw_msg *m, const unsigned char *data, size_t len)
{
    struct mw_dkim_msg *dm = *mw_msg_data(m);
    DKIM_STAT st;

    if (dm != NULL && dm->signer != NULL) {
        mw_dkim_signer_body(dm->signer, data, len);
        return MW_CONTINUE;
    }
    if (!mw_dkim_active(dm) || len == 0)
        return MW_CONTINUE;
    st = dkim_body(dm->dkim, (unsigned char *)data, len);
    if (st != DKIM_STAT_OK) {
        dm->failed = true;
        dm->st = st;
    }
    return MW_CONTINUE;
}

/*
 * RFC 8601 result of one signature. RFC 6376 §6.1: a failed hash or
 * signature, or a revoked key (empty p=), is a failure of the signature
 * (fail); a key that does not exist, an unusable key or a malformed or
 * expired signature is PERMFAIL (permerror); a DNS failure is TEMPFAIL
 * (temperror); what libopendkim did not judge is neutral.
 */
static const char *
mw_dkim_result(DKIM_SIGINFO *sig)
{
    unsigned int flags = dkim_sig_getflags(sig);
    int e = dkim_sig_geterror(sig);

    if ((flags & DKIM_SIGFLAG_PASSED) != 0 && dkim_sig_getbh(sig) == DKIM_SIGBH_MATCH)
        return "pass";
    switch (e) {
    case DKIM_SIGERROR_KEYFAIL:
        return "temperror";
    case DKIM_SIGERROR_BADSIG:
    case DKIM_SIGERROR_KEYREVOKED:
        return "fail";
    case DKIM_SIGERROR_OK:
    case DKIM_SIGERROR_UNKNOWN:
        if ((flags & DKIM_SIGFLAG_PROCESSED) != 0 && dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH)
            return "fail";
        return "neutral";
    case DKIM_SIGERROR_CONDITIONAL:
    case DKIM_SIGERROR_CONDLOOP:
        return "neutral";
    default:
        if (dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH)
            return "fail";
        return "permerror";
    }
}

/* A tag's value or "" (libopendkim gives NULL when a tag is absent). */
static const char *
mw_dkim_tag(DKIM_SIGINFO *sig, const char *tag)
{
    const unsigned char *v = dkim_sig_gettagvalue(sig, false, (unsigned char *)tag);

    return v != NULL ? (const char *)v : "";
}

/* Record the AR entry, the structured result and the log item of one signature. */
static void
mw_dkim_report(struct mw_msg *m, DKIM_SIGINFO *sig)
{
    const char *res = mw_dkim_result(sig), *b = mw_dkim_tag(sig, "b");
    const char *d = (const char *)dkim_sig_getdomain(sig), *sel = mw_dkim_tag(sig, "s");
    const char *alg = mw_dkim_tag(sig, "a"), *why = NULL;
    char b8[9];
    size_t n = 0;
    int e = dkim_sig_geterror(sig);
    struct mw_auth_result r = {.method = "dkim", .result = res};

    /* header.b: the first 8 characters of b= (RFC 6008), folding blanks skipped. */
    for (; *b != '\0' && n < 8; b++)
        if (*b != ' ' && *b != '\t' && *b != '\r' && *b != '\n')
            b8[n++] = *b;
    b8[n] = '\0';
    if (d == NULL)
        d = "";
    /* RFC 8301 §3.1: rsa-sha1 signatures must not be considered valid (libopendkim would). */
    if (strcmp(alg, "rsa-sha1") == 0) {
        res = "fail";
        why = "rsa-sha1 not accepted, RFC 8301";
    }
    /* The reason comment: a changed body says so, whatever libopendkim's error code. */
    if (why != NULL)
        ;
    else if (strcmp(res, "pass") != 0 && dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH)
        why = "body hash mismatch";
    else if (strcmp(res, "pass") != 0 && e != DKIM_SIGERROR_OK && e != DKIM_SIGERROR_UNKNOWN)
        why = dkim_sig_geterrorstr(e);
    if (why != NULL)
        mw_msg_ar_add(m, "dkim=%s (%s) header.d=%s header.s=%s header.a=%s header.b=%s", res, why,
                      d, sel, alg, b8);
    else
        mw_msg_ar_add(m, "dkim=%s header.d=%s header.s=%s header.a=%s header.b=%s", res, d, sel,
                      alg, b8);
    r.domain = d;
    r.selector = sel;
    r.algorithm = alg;
    mw_msg_auth_add(m, &r);
    mw_msg_log_add(m, "dkim=%s:%s:%s", res, d, sel);
}

static enum mw_verdict
mw_dkim_eom_hook(void *state, struct mw_msg *m)
{
    struct mw_dkim_msg *dm = *mw_msg_data(m);
    DKIM_SIGINFO **sigs = NULL;
    int nsigs = 0;
    DKIM_STAT st;
    const char *res;

    if (dm == NULL)
        return MW_CONTINUE;
    if (dm->signer != NULL) {
        mw_dkim_signer_eom(dm->signer, m);
        return MW_CONTINUE;
    }
    if (dm->nosig) {
        mw_msg_ar_add(m, "dkim=none");
        mw_msg_log_add(m, "dkim=none");
        return MW_CONTINUE;
    }
    if (!dm->failed) {
        st = dkim_eom(dm->dkim, NULL);
        if (st == DKIM_STAT_NOSIG) {
            mw_msg_ar_add(m, "dkim=none");
            mw_msg_log_add(m, "dkim=none");
            return MW_CONTINUE;
        }
        if (dkim_getsiglist(dm->dkim, &sigs, &nsigs) == DKIM_STAT_OK && nsigs > 0) {
            for (int i = 0; i < nsigs; i++)
                if ((dkim_sig_getflags(sigs[i]) & DKIM_SIGFLAG_IGNORE) == 0)
                    mw_dkim_report(m, sigs[i]);
            return MW_CONTINUE;
        }
        dm->st = st;
    }
    /* libopendkim gave up before judging any signature: out of resources or malformed. */
    res =
        dm->st == DKIM_STAT_NORESOURCE || dm->st == DKIM_STAT_INTERNAL ? "temperror" : "permerror";
    mw_msg_ar_add(m, "dkim=%s (%s)", res, dkim_getresultstr(dm->st));
    mw_msg_log_add(m, "dkim=%s", res);
    return MW_CONTINUE;
}

static void
mw_dkim_done(void *state, struct mw_msg *m)
{
    void **slot = mw_msg_data(m);
    struct mw_dkim_msg *dm = *slot;

    if (dm == NULL)
        return;
    if (dm->dkim != NULL)
        dkim_free(dm->dkim);
    mw_dkim_signer_free(&dm->signer);
    mw_free(slot);
}

static const struct mw_milter_hooks mw_dkim_hooks = {
    .header = mw_dkim_header_hook,
    .eoh = mw_dkim_eoh_hook,
    .body = mw_dkim_body_hook,
    .eom = mw_dkim_eom_hook,
    .done = mw_dkim_done,
};

const struct mw_plugin mailward_plugin = {
    .abi = MW_PLUGIN_ABI,
    .name = "dkim",
    .version = PACKAGE_VERSION,
    .sections = mw_dkim_sections,
    .init = mw_dkim_init,
    .configure = mw_dkim_configure,
    .fini = mw_dkim_fini,
    .milter = &mw_dkim_hooks,
};
