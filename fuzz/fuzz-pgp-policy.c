/*
 * fuzz-pgp-policy.c - libFuzzer target for the pgp plugin's policy table
 * parser (plugins/pgp/policy.c): any bytes in, a table or a "NAME:LINE: why"
 * error out, never a crash, leak or undefined behaviour. A parsed table is
 * also queried with addresses that hit every lookup branch.
 */
// fuzz-sources: plugins/pgp/policy.c
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "mw/log.h"
#include "pgp/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const addrs[] = {"bob@example.net",
                                        "Bob@A.B.Example.NET",
                                        "x@net",
                                        "@",
                                        "nobody",
                                        "a@",
                                        "a@.",
                                        "a@b..c",
                                        NULL};
    static int opened;
    struct mw_pgp_table *t;
    struct mw_err err;

    if (!opened) {
        mw_log_open("fuzz-pgp-policy", 0);
        opened = 1;
    }
    if (mw_pgp_table_parse("fuzz", (const char *)data, size, &t, &err) < 0)
        return 0;
    for (const char *const *a = addrs; *a; a++)
        (void)mw_pgp_table_lookup(t, *a);
    (void)mw_pgp_table_size(t);
    mw_pgp_table_free(&t);
    return 0;
}
