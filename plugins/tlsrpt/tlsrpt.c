/*
 * tlsrpt.c - the tlsrpt plugin: receive TLS reports (RFC 8460) by mail.
 *
 * A domain that publishes "_smtp._tls" TXT "v=TLSRPTv1; rua=mailto:ADDR"
 * gets aggregate reports mailed to ADDR. List ADDR in [tlsrpt] address and
 * mailward-milter recognises them: a message with such a recipient is kept
 * (header section and body, up to max_size; past memory_limit in a nameless
 * temp file in spool_dir, mw/spool.h, where a write failure tempfails the
 * message 451 4.3.0) and at end of message, read back into memory whole,
 * the first application/tlsrpt+gzip or application/tlsrpt+json part (GMime,
 * mail.c) goes to the parser in lib/tlsrpt.c, which logs one line per
 * report and counts it in the mailward_tlsrpt_* metrics.
 *
 * Then action: "deliver" lets the message go on to the mailbox; "discard"
 * drops it - but only the report addresses' copies: when the message also
 * has other recipients they keep theirs (the report recipients are removed
 * instead). A report that fails to parse, a message without a report part
 * and one over max_size are logged and counted as rejected and otherwise
 * treated the same way, so no mail is ever lost silently. The message's
 * syslog line gets "tlsrpt=accepted" or "tlsrpt=rejected", and the
 * report's TLS-Report-Submitter and TLS-Report-Domain fields.
 *
 * Settings ([tlsrpt], declared below): address (empty: the plugin does
 * nothing), action (deliver), max_size (10 MiB), spool_dir (empty: memory
 * only), memory_limit (1 MiB). configure() builds the new
 * settings first and swaps them on success.
 *
 * Per message: struct mw_tlsrpt_msg in the plugin slot, created by the rcpt
 * hook of the first report recipient and freed by done. Any number of
 * connection threads; settings change only in configure().
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "mail.h"
#include "mailward-plugin.h"
#include "mw/alloc.h"
#include "mw/buf.h"
#include "mw/fileperm.h"
#include "mw/log.h"
#include "mw/spool.h"
#include "mw/tlsrpt.h"

struct mw_tlsrpt_set {
    char **address; /* report mailboxes, NULL-terminated */
    int discard;    /* action = discard */
    size_t max_size;
    char *spool_dir;     /* "": collect in memory only */
    size_t memory_limit; /* bytes kept in memory before spool_dir */
};

struct mw_tlsrpt_state {
    struct mw_tlsrpt_set *set;
};

/* The message being received for a report address. */
struct mw_tlsrpt_msg {
    struct mw_spool raw; /* header section and body, as received; on disk past memory_limit */
    int too_big;
};

/* An address as configured: local@domain, no blanks or angle brackets. */
static int
mw_tlsrpt_check_addresses(const char *v, struct mw_err *err)
{
    size_t n, i;
    char **words = mw_strv_split(v, &n);
    int rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        const char *at = strrchr(words[i], '@');

        if (at == NULL || at == words[i] || at[1] == '\0' || strpbrk(words[i], "<>\"") != NULL)
            rc = mw_err_set(err, "\"%s\" is not a mailbox local@domain", words[i]);
    }
    mw_strv_free(&words);
    return rc;
}

static const struct mw_cfg_key mw_tlsrpt_keys[] = {
    {"address", MW_CFG_LIST, "", 0, 0, NULL, mw_tlsrpt_check_addresses,
     "Report mailboxes (the rua=mailto: addresses of _smtp._tls); empty = receive no reports."},
    {"action", MW_CFG_ENUM, "deliver", 0, 0, "deliver|discard", NULL,
     "After parsing, deliver the report mail to the mailbox or discard it (other recipients "
     "of the same message always keep their copy)."},
    {"max_size", MW_CFG_INT, "10485760", 1024, 104857600, NULL, NULL,
     "Largest report mail parsed (bytes); a larger one is counted as rejected."},
    {"spool_dir", MW_CFG_STRING, "", 0, 0, NULL, NULL,
     "Private directory (mode 0700, owned by the run user) where a report mail over "
     "memory_limit is collected in a nameless temp file; empty: in memory only."},
    {"memory_limit", MW_CFG_INT, "1048576", 4096, 104857600, NULL, NULL,
     "Bytes of a report mail kept in memory while it is received, before spool_dir."},
    {NULL, 0, NULL, 0, 0, NULL, NULL, NULL},
};

static const struct mw_cfg_section mw_tlsrpt_section = {
    "tlsrpt", "TLS reports (RFC 8460) received by mail (plugin tlsrpt).", mw_tlsrpt_keys};

static const struct mw_cfg_section *const mw_tlsrpt_sections[] = {&mw_tlsrpt_section, NULL};

static void
mw_tlsrpt_set_free(struct mw_tlsrpt_set **sp)
{
    if (*sp == NULL)
        return;
    mw_strv_free(&(*sp)->address);
    mw_free(&(*sp)->spool_dir);
    mw_free(sp);
}

static int
mw_tlsrpt_init(const struct mw_host *host, void **state, struct mw_err *err)
{
    (void)host;
    (void)err;
    mw_tlsrpt_mail_init();
    *state = mw_calloc(1, sizeof(struct mw_tlsrpt_state));
    return 0;
}

static int
mw_tlsrpt_configure(void *state, const struct mw_config *cfg, struct mw_err *err)
{
    struct mw_tlsrpt_state *st = state;
    struct mw_tlsrpt_set *s = mw_calloc(1, sizeof(*s));
    size_t n;

    s->address = mw_config_list(cfg, "tlsrpt", "address", &n);
    s->discard = strcmp(mw_config_str(cfg, "tlsrpt", "action"), "discard") == 0;
    s->max_size = (size_t)mw_config_int(cfg, "tlsrpt", "max_size");
    s->spool_dir = mw_strdup(mw_config_str(cfg, "tlsrpt", "spool_dir"));
    s->memory_limit = (size_t)mw_config_int(cfg, "tlsrpt", "memory_limit");
    if (*s->spool_dir != '\0' &&
        (*s->spool_dir != '/'
             ? mw_err_set(err, "[tlsrpt] spool_dir must be an absolute path")
             : mw_fileperm_check(cfg, s->spool_dir, MW_FILEPERM_HOMEDIR, err)) < 0) {
        mw_tlsrpt_set_free(&s);
        return -1;
    }
    mw_tlsrpt_set_free(&st->set);
    st->set = s;
    if (n == 0)
        mw_log_info("tlsrpt: no [tlsrpt] address: no reports are received by mail");
    return 0;
}

static void
mw_tlsrpt_fini(void **state)
{
    struct mw_tlsrpt_state *st = *state;

    if (st == NULL)
        return;
    mw_tlsrpt_set_free(&st->set);
    mw_free(state);
    mw_tlsrpt_mail_fini();
}

/* Is rcpt (with or without <>) one of the report addresses? */
static int
mw_tlsrpt_is_report_rcpt(const struct mw_tlsrpt_set *s, const char *rcpt)
{
    size_t len = strlen(rcpt);
    char **a;

    if (len >= 2 && rcpt[0] == '<' && rcpt[len - 1] == '>') {
        rcpt++;
        len -= 2;
    }
    for (a = s->address; a != NULL && *a != NULL; a++)
        if (strlen(*a) == len && strncasecmp(*a, rcpt, len) == 0)
            return 1;
    return 0;
}

static enum mw_verdict
mw_tlsrpt_rcpt(void *state, struct mw_msg *m, const char *rcpt)
{
    struct mw_tlsrpt_state *st = state;
    void **slot = mw_msg_data(m);

    if (*slot == NULL && mw_tlsrpt_is_report_rcpt(st->set, rcpt)) {
        struct mw_tlsrpt_msg *tm = mw_calloc(1, sizeof(*tm));

        mw_spool_init(&tm->raw, st->set->spool_dir, st->set->memory_limit);
        *slot = tm;
    }
    return MW_CONTINUE;
}

/* Keep len more bytes of the message, unless that passes max_size. */
static void
mw_tlsrpt_keep(const struct mw_tlsrpt_set *s, struct mw_tlsrpt_msg *tm, const void *data,
               size_t len)
{
    if (tm->too_big)
        return;
    if (len > s->max_size || mw_spool_len(&tm->raw) > s->max_size - len) {
        tm->too_big = 1;
        mw_spool_release(&tm->raw);
        mw_spool_init(&tm->raw, NULL, 0);
        return;
    }
    /* A failure is sticky in the spool: the end of message tempfails. */
    (void)mw_spool_append(&tm->raw, data, len);
}

static enum mw_verdict
mw_tlsrpt_header(void *state, struct mw_msg *m, const char *name, const char *value)
{
    struct mw_tlsrpt_state *st = state;
    struct mw_tlsrpt_msg *tm = *mw_msg_data(m);
    struct mw_buf line;

    if (tm == NULL)
        return MW_CONTINUE;
    mw_buf_init(&line);
    mw_buf_printf(&line, "%s: %s\r\n", name, value);
    mw_tlsrpt_keep(st->set, tm, line.data, line.len);
    mw_buf_release(&line);
    return MW_CONTINUE;
}

static enum mw_verdict
mw_tlsrpt_eoh(void *state, struct mw_msg *m)
{
    struct mw_tlsrpt_state *st = state;
    struct mw_tlsrpt_msg *tm = *mw_msg_data(m);

    if (tm != NULL)
        mw_tlsrpt_keep(st->set, tm, "\r\n", 2);
    return MW_CONTINUE;
}

static enum mw_verdict
mw_tlsrpt_body(void *state, struct mw_msg *m, const unsigned char *data, size_t len)
{
    struct mw_tlsrpt_state *st = state;
    struct mw_tlsrpt_msg *tm = *mw_msg_data(m);

    if (tm != NULL)
        mw_tlsrpt_keep(st->set, tm, data, len);
    return MW_CONTINUE;
}

/* Add "KEY=VALUE" to the message's log line, VALUE a domain name as the sender wrote it. */
static void
mw_tlsrpt_log_domain(struct mw_msg *m, const char *key, const char *value)
{
    char clean[64];
    size_t i;

    if (value == NULL)
        return;
    for (i = 0; i < sizeof(clean) - 1 && value[i] != '\0'; i++)
        clean[i] =
            isalnum((unsigned char)value[i]) || value[i] == '.' || value[i] == '-' ? value[i] : '_';
    clean[i] = '\0';
    mw_msg_log_add(m, "%s=%s", key, clean);
}

/*
 * Find the report in the message, parse, log and count it: 0 accepted, -2 when
 * the spooled message cannot be read back (the caller tempfails), -1
 * rejected. The TLS-Report-Submitter and TLS-Report-Domain fields (RFC 8460
 * section 5.3) go into the message's log line.
 */
static int
mw_tlsrpt_process(struct mw_tlsrpt_msg *tm, struct mw_msg *m)
{
    const char *qid = mw_msg_queue_id(m);
    struct mw_tlsrpt_mail mail;
    struct mw_err err;
    struct mw_buf raw;
    int rc;

    if (tm->too_big) {
        mw_tlsrpt_record(NULL, NULL, "mail", qid, "message larger than [tlsrpt] max_size");
        return -1;
    }
    /* GMime parses the report mail from memory: read back whole (up to max_size). */
    mw_buf_init(&raw);
    if (mw_spool_load(&tm->raw, &raw, &err) < 0) {
        mw_buf_release(&raw);
        return -2;
    }
    rc = mw_tlsrpt_mail_report(raw.data, raw.len, &mail, &err);
    mw_buf_release(&raw);
    if (rc < 0) {
        mw_tlsrpt_record(NULL, NULL, "mail", qid, err.text);
        rc = -1;
    } else {
        rc = mw_tlsrpt_receive((const unsigned char *)mail.report.data, mail.report.len,
                               mail.gzipped, "mail", qid, &err);
    }
    mw_tlsrpt_log_domain(m, "tlsrpt_submitter", mail.submitter);
    mw_tlsrpt_log_domain(m, "tlsrpt_domain", mail.domain);
    mw_tlsrpt_mail_release(&mail);
    return rc;
}

/*
 * action = discard: drop the message when every recipient is a report
 * address, else remove only the report addresses.
 */
static enum mw_verdict
mw_tlsrpt_discard(const struct mw_tlsrpt_set *s, struct mw_msg *m)
{
    size_t i, n = mw_msg_rcpt_count(m), others = 0;

    for (i = 0; i < n; i++)
        others += !mw_tlsrpt_is_report_rcpt(s, mw_msg_rcpt(m, i));
    if (others == 0) {
        mw_msg_log_add(m, "tlsrpt_action=discard");
        return MW_DISCARD;
    }
    for (i = 0; i < n; i++)
        if (mw_tlsrpt_is_report_rcpt(s, mw_msg_rcpt(m, i)))
            mw_msg_rcpt_delete(m, mw_msg_rcpt(m, i));
    mw_msg_log_add(m, "tlsrpt_action=remove-report-rcpts");
    return MW_CONTINUE;
}

static enum mw_verdict
mw_tlsrpt_eom(void *state, struct mw_msg *m)
{
    struct mw_tlsrpt_state *st = state;
    struct mw_tlsrpt_msg *tm = *mw_msg_data(m);
    int rc = -1;

    if (tm == NULL)
        return MW_CONTINUE;
    if (mw_spool_error(&tm->raw) != NULL || (rc = mw_tlsrpt_process(tm, m)) == -2) {
        mw_msg_set_reply(m, "451", "4.3.0", "cannot keep the report mail");
        mw_msg_log_add(m, "tlsrpt=tempfail:spool");
        mw_log_warn("%s: tlsrpt: cannot keep the report mail: %s", mw_msg_queue_id(m),
                    mw_spool_error(&tm->raw) ? mw_spool_error(&tm->raw) : "cannot read it back");
        return MW_TEMPFAIL;
    }
    if (rc == 0)
        mw_msg_log_add(m, "tlsrpt=accepted");
    else
        mw_msg_log_add(m, "tlsrpt=rejected");
    return st->set->discard ? mw_tlsrpt_discard(st->set, m) : MW_CONTINUE;
}

static void
mw_tlsrpt_done(void *state, struct mw_msg *m)
{
    void **slot = mw_msg_data(m);
    struct mw_tlsrpt_msg *tm = *slot;

    (void)state;
    if (tm == NULL)
        return;
    mw_spool_release(&tm->raw);
    mw_free(slot);
}

static const struct mw_milter_hooks mw_tlsrpt_hooks = {
    .rcpt = mw_tlsrpt_rcpt,
    .header = mw_tlsrpt_header,
    .eoh = mw_tlsrpt_eoh,
    .body = mw_tlsrpt_body,
    .eom = mw_tlsrpt_eom,
    .done = mw_tlsrpt_done,
};

const struct mw_plugin mailward_plugin = {
    .abi = MW_PLUGIN_ABI,
    .name = "tlsrpt",
    .version = PACKAGE_VERSION,
    .sections = mw_tlsrpt_sections,
    .init = mw_tlsrpt_init,
    .configure = mw_tlsrpt_configure,
    .fini = mw_tlsrpt_fini,
    .milter = &mw_tlsrpt_hooks,
};
