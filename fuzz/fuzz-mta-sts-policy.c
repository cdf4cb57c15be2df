/*
 * fuzz-mta-sts-policy.c - libFuzzer target for the MTA-STS policy parser
 * and the Postfix answer built from it (plugins/mta-sts/policy.c), and for
 * the cache entry decoder (entry.c) whose body goes through the same parser:
 * any bytes in, a policy or a reason out, never a crash, leak or undefined
 * behaviour.
 */
// fuzz-sources: plugins/mta-sts/policy.c plugins/mta-sts/entry.c
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "mta-sts/entry.h"
#include "mta-sts/policy.h"
#include "mw/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_policy(const char *text, size_t len)
{
    struct mw_sts_policy *p;
    struct mw_buf b;
    struct mw_err err;

    if (mw_sts_policy_parse(text, len, &p, &err) < 0)
        return;
    mw_buf_init(&b);
    (void)mw_sts_policy_answer(p, "example.com", 0, 4096, &b, &err);
    mw_buf_reset(&b);
    (void)mw_sts_policy_answer(p, "example.com", 1, 4096, &b, &err);
    mw_buf_release(&b);
    mw_sts_policy_free(&p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int opened;
    struct mw_sts_entry e;
    struct mw_err err;

    if (!opened) {
        mw_log_open("fuzz-mta-sts-policy", 0);
        opened = 1;
    }
    fuzz_policy((const char *)data, size);
    if (mw_sts_entry_decode((const char *)data, size, &e, &err) == 0 && e.has_policy)
        fuzz_policy(e.body, e.body_len);
    return 0;
}
