/*
 * fuzz-tlsrpt.c - libFuzzer target for lib/tlsrpt.c and lib/tlsrpt-record.c:
 * the TLS reports (RFC 8460) that any sender can mail to a report address
 * or POST to the publishing listener. The first input byte picks how the
 * rest is declared (0 JSON, 1 gzip, else auto-detect). Checked: an
 * accepted report has every field the schema requires, a known
 * policy-type, per-policy result-type sums no larger than what was read,
 * and totals that equal the policies' sums; then the log line and the
 * counters are made (a malformed label would abort in lib/metrics.c).
 * Build and run: see fuzz/README.md.
 */
// fuzz-sources: lib/tlsrpt.c lib/tlsrpt-record.c lib/metrics.c
// fuzz-pkgs: json-c zlib
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mw/log.h"
#include "mw/tlsrpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct mw_tlsrpt_summary *s)
{
    uint64_t ok = 0, failed = 0;

    if (s->organization == NULL || s->report_id == NULL || s->contact_info == NULL ||
        s->start == NULL || s->end == NULL || s->npolicy == 0 || s->policy == NULL)
        abort();
    for (size_t i = 0; i < s->npolicy; i++) {
        const struct mw_tlsrpt_policy *p = &s->policy[i];

        if (p->policy_domain == NULL || p->policy_type == NULL ||
            (strcmp(p->policy_type, "sts") != 0 && strcmp(p->policy_type, "tlsa") != 0 &&
             strcmp(p->policy_type, "no-policy-found") != 0))
            abort();
        for (size_t j = 0; j < p->nfailure; j++)
            if (p->failure[j].result_type == NULL || *p->failure[j].result_type == '\0')
                abort();
        ok += p->successes;
        failed += p->failures;
    }
    if (ok != s->successes || failed != s->failures)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int opened;
    struct mw_tlsrpt_summary s;
    struct mw_err err;
    int gz, rc;

    if (!opened) {
        mw_log_open("fuzz-tlsrpt", 0);
        opened = 1;
    }
    if (size < 1)
        return 0;
    gz = data[0] == 0 ? MW_TLSRPT_JSON : data[0] == 1 ? MW_TLSRPT_GZIP : MW_TLSRPT_AUTO;
    rc = mw_tlsrpt_accept(data + 1, size - 1, gz, &s, &err);
    if (rc == 0)
        check(&s);
    else if (err.text[0] == '\0')
        abort();
    mw_tlsrpt_record(rc == 0 ? &s : NULL, &s, "fuzz", NULL, err.text);
    mw_tlsrpt_summary_free(&s);
    return 0;
}
