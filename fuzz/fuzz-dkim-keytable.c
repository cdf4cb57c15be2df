/*
 * fuzz-dkim-keytable.c - libFuzzer target for the dkim plugin's OpenDKIM
 * KeyTable and SigningTable parsers (plugins/dkim/keytable.c): any bytes in,
 * tables or a "NAME:LINE: why" error out, never a crash, leak or undefined
 * behaviour. The input is a KeyTable, then a line "%%", then a SigningTable
 * (parsed both as exact keys and as refile: wildcards); a parsed pair is
 * queried with a few addresses, and the From local-part extractor runs on
 * the whole input.
 */
// fuzz-sources: plugins/dkim/keytable.c
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dkim/keytable.h"
#include "mw/alloc.h"
#include "mw/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
mw_fuzz_signtable(const char *text, size_t len, bool regex, const struct mw_dkim_keytable *kt)
{
    static const char *const addrs[][2] = {
        {"alice", "example.com"}, {"", "example.com"}, {"a*b", "x"}, {"*", "*"}, {"bob", ""},
    };
    struct mw_dkim_signtable *st;
    struct mw_err err;
    size_t idx[8];

    if (mw_dkim_signtable_parse("signingtable", text, len, regex, kt, &st, &err) < 0)
        return;
    for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
        size_t n = mw_dkim_signtable_match(st, addrs[i][0], addrs[i][1], idx, 8);
        for (size_t j = 0; j < n; j++)
            if (idx[j] >= kt->n)
                __builtin_trap();
    }
    (void)mw_dkim_signtable_count(st);
    mw_dkim_signtable_free(&st);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int opened;
    const char *text = (const char *)data;
    const char *sep = size >= 3 ? memmem(text, size, "%%\n", 3) : NULL;
    size_t klen = sep ? (size_t)(sep - text) : size;
    struct mw_dkim_keytable *kt;
    struct mw_err err;
    char *s;

    if (!opened) {
        mw_log_open("fuzz-dkim-keytable", 0);
        opened = 1;
    }
    /* The wildcard matcher on the raw bytes as a pattern against a fixed subject and back. */
    s = mw_strndup(text, size);
    (void)mw_dkim_wildcard(s, "alice@example.com");
    (void)mw_dkim_wildcard("*@*.com", s);
    mw_free(&s);
    s = mw_strndup(text, size);
    mw_free_impl(mw_dkim_from_local(s));
    mw_free(&s);
    if (mw_dkim_keytable_parse("keytable", text, klen, &kt, &err) < 0)
        return 0;
    if (sep != NULL) {
        mw_fuzz_signtable(sep + 3, size - klen - 3, false, kt);
        mw_fuzz_signtable(sep + 3, size - klen - 3, true, kt);
    }
    mw_dkim_keytable_free(&kt);
    return 0;
}
