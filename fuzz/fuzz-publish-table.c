/*
 * fuzz-publish-table.c - libFuzzer target for the [mta-sts-publish]
 * policy_file parser (policyd/publish-table.c): the input is a whole file.
 * Every site parsed must serve a policy that is RFC 8461 text (CRLF lines,
 * no stray bytes), and formatting the table and parsing it again must give
 * the same sites.
 */
// fuzz-sources: policyd/publish-table.c lib/dns-rr.c
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../policyd/publish-table.h"
#include "mw/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_policy(const struct mw_sts_site *s)
{
    struct mw_buf p;

    mw_buf_init(&p);
    mw_sts_site_policy(s, &p);
    if (strncmp(p.data, "version: STSv1\r\n", 16) != 0 || strlen(p.data) != p.len)
        abort();
    for (size_t i = 0; i < p.len; i++)
        if ((p.data[i] == '\n') != (i > 0 && p.data[i - 1] == '\r') ||
            (p.data[i] < 0x20 && p.data[i] != '\r' && p.data[i] != '\n'))
            abort();
    mw_buf_release(&p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int opened;
    struct mw_sts_table t, again;
    struct mw_buf text;
    struct mw_err err;

    if (!opened) {
        mw_log_open("fuzz", 0);
        opened = 1;
    }
    if (mw_sts_table_parse("fuzz", (const char *)data, size, &t, &err) < 0)
        return 0;
    mw_buf_init(&text);
    for (size_t i = 0; i < t.n; i++) {
        check_policy(&t.sites[i]);
        mw_sts_site_format(&t.sites[i], &text);
    }
    if (mw_sts_table_parse("again", text.data, text.len, &again, &err) < 0 || again.n != t.n)
        abort();
    for (size_t i = 0; i < t.n; i++)
        if (!mw_sts_site_same_policy(&t.sites[i], &again.sites[i]))
            abort();
    mw_sts_table_release(&again);
    mw_sts_table_release(&t);
    mw_buf_release(&text);
    return 0;
}
