/*
 * fuzz-tls-rules-table.c - libFuzzer target for the tls-rules table parser
 * (plugins/tls-rules/table.c): any bytes in, a table or a "NAME:LINE: why"
 * error out, never a crash, leak or undefined behaviour. A parsed table is
 * also queried, so lookup runs over whatever keys the fuzzer invented.
 */
// fuzz-sources: lib/policy.c lib/metrics.c plugins/tls-rules/table.c
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "mw/log.h"
#include "tls-rules/table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const keys[] = {"example.net", "a.b.example.net", "net", "x", NULL};
    static int opened;
    struct mw_tlsrules *t;
    struct mw_err err;

    if (!opened) {
        mw_log_open("fuzz-tls-rules-table", 0);
        opened = 1;
    }
    if (mw_tlsrules_parse("fuzz", (const char *)data, size, &t, &err) < 0)
        return 0;
    for (const char *const *k = keys; *k; k++) {
        int ovr;
        (void)mw_tlsrules_lookup(t, *k, 0);
        (void)mw_tlsrules_lookup(t, *k, 1);
        (void)mw_tlsrules_find(t, *k, 0, &ovr);
    }
    (void)mw_tlsrules_overrides(t);
    mw_tlsrules_free(&t);
    return 0;
}
