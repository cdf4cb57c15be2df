/*
 * probe.c - a test plugin that exercises every part of the milter host.
 *
 * At end of message it adds the Authentication-Results entry
 * "x-probe=pass smtp.mailfrom=SENDER", a log item "probe=pass body=N
 * headers=N" (N counted through its per-message slot, so the tests see
 * that body chunks and headers reach plugins and that the slot is freed)
 * and the header "X-Mailward-Probe: inbound|outbound". Its own [probe]
 * section makes it return a verdict at a chosen stage, so the tests can
 * check verdict handling and reload:
 *   [probe]
 *   verdict = continue | accept | reject | tempfail | discard
 *   stage   = connect | helo | mail | rcpt | eoh | eom
 *   reason  = text of the SMTP reply
 *
 * Settings are replaced by configure(), which the host never runs while a
 * hook runs. Test-only: not installed.
 */
#include "config.h"

#include <string.h>

#include "mailward-plugin.h"
#include "mw/alloc.h"

enum probe_stage { PROBE_CONNECT, PROBE_HELO, PROBE_MAIL, PROBE_RCPT, PROBE_EOH, PROBE_EOM };

struct probe {
    enum mw_verdict verdict;
    enum probe_stage stage;
    char *reason;
};

struct probe_msg {
    size_t body, headers;
};

static const struct mw_cfg_key probe_keys[] = {
    {"verdict", MW_CFG_ENUM, "continue", 0, 0, "continue|accept|reject|tempfail|discard", NULL,
     "Verdict returned at stage."},
    {"stage", MW_CFG_ENUM, "eom", 0, 0, "connect|helo|mail|rcpt|eoh|eom", NULL,
     "Stage at which verdict is returned."},
    {"reason", MW_CFG_STRING, "rejected by probe", 0, 0, NULL, NULL, "Reply text."},
    {NULL, 0, NULL, 0, 0, NULL, NULL, NULL},
};
static const struct mw_cfg_section probe_section = {"probe", "The test probe plugin.", probe_keys};
static const struct mw_cfg_section *const probe_sections[] = {&probe_section, NULL};

static int
probe_word(const char *list, const char *word)
{
    size_t len = strlen(word);
    int i = 0;

    for (const char *p = list; *p; i++) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == len && strncmp(p, word, n) == 0)
            return i;
        p += n + (bar != NULL);
    }
    return 0;
}

static int
probe_init(const struct mw_host *host, void **state, struct mw_err *err)
{
    *state = mw_calloc(1, sizeof(struct probe));
    return 0;
}

static int
probe_configure(void *state, const struct mw_config *cfg, struct mw_err *err)
{
    struct probe *p = state;

    p->verdict = (enum mw_verdict)probe_word("continue|accept|reject|tempfail|discard",
                                             mw_config_str(cfg, "probe", "verdict"));
    p->stage = (enum probe_stage)probe_word("connect|helo|mail|rcpt|eoh|eom",
                                            mw_config_str(cfg, "probe", "stage"));
    mw_free(&p->reason);
    p->reason = mw_strdup(mw_config_str(cfg, "probe", "reason"));
    return 0;
}

static void
probe_fini(void **state)
{
    struct probe *p = *state;

    mw_free(&p->reason);
    mw_free(state);
}

static enum mw_verdict
probe_at(struct probe *p, struct mw_msg *m, enum probe_stage st)
{
    if (st != p->stage || p->verdict == MW_CONTINUE)
        return MW_CONTINUE;
    if (p->verdict == MW_REJECT)
        mw_msg_set_reply(m, "550", "5.7.1", "%s", p->reason);
    else if (p->verdict == MW_TEMPFAIL)
        mw_msg_set_reply(m, "451", "4.7.1", "%s", p->reason);
    mw_msg_log_add(m, "probe=%s",
                   p->verdict == MW_REJECT     ? "reject"
                   : p->verdict == MW_TEMPFAIL ? "tempfail"
                                               : "other");
    return p->verdict;
}

static struct probe_msg *
probe_msg(struct mw_msg *m)
{
    void **slot = mw_msg_data(m);

    if (*slot == NULL)
        *slot = mw_calloc(1, sizeof(struct probe_msg));
    return *slot;
}

static enum mw_verdict
probe_connect(void *state, struct mw_msg *m)
{
    return probe_at(state, m, PROBE_CONNECT);
}

static enum mw_verdict
probe_helo(void *state, struct mw_msg *m)
{
    return probe_at(state, m, PROBE_HELO);
}

static enum mw_verdict
probe_mail(void *state, struct mw_msg *m)
{
    probe_msg(m);
    return probe_at(state, m, PROBE_MAIL);
}

static enum mw_verdict
probe_rcpt(void *state, struct mw_msg *m, const char *rcpt)
{
    return probe_at(state, m, PROBE_RCPT);
}

static enum mw_verdict
probe_header(void *state, struct mw_msg *m, const char *name, const char *value)
{
    probe_msg(m)->headers++;
    return MW_CONTINUE;
}

static enum mw_verdict
probe_eoh(void *state, struct mw_msg *m)
{
    return probe_at(state, m, PROBE_EOH);
}

static enum mw_verdict
probe_body(void *state, struct mw_msg *m, const unsigned char *data, size_t len)
{
    probe_msg(m)->body += len;
    return MW_CONTINUE;
}

static enum mw_verdict
probe_eom(void *state, struct mw_msg *m)
{
    struct probe_msg *pm = probe_msg(m);
    enum mw_verdict v = probe_at(state, m, PROBE_EOM);

    if (v != MW_CONTINUE)
        return v;
    mw_msg_ar_add(m, "x-probe=pass smtp.mailfrom=%s", mw_msg_mail_from(m));
    mw_msg_log_add(m, "probe=pass body=%zu headers=%zu", pm->body, pm->headers);
    mw_msg_header_add(m, "X-Mailward-Probe",
                      mw_msg_direction(m) == MW_OUTBOUND ? "outbound" : "inbound");
    return MW_CONTINUE;
}

static void
probe_done(void *state, struct mw_msg *m)
{
    mw_free(mw_msg_data(m));
}

static const struct mw_milter_hooks probe_hooks = {
    .connect = probe_connect,
    .helo = probe_helo,
    .mail = probe_mail,
    .rcpt = probe_rcpt,
    .header = probe_header,
    .eoh = probe_eoh,
    .body = probe_body,
    .eom = probe_eom,
    .done = probe_done,
};

const struct mw_plugin mailward_plugin = {
    .abi = MW_PLUGIN_ABI,
    .name = "probe",
    .version = "1",
    .sections = probe_sections,
    .init = probe_init,
    .configure = probe_configure,
    .fini = probe_fini,
    .milter = &probe_hooks,
};
