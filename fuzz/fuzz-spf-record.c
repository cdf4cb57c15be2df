/*
 * fuzz-spf-record.c - libFuzzer target for the SPF record parser
 * (plugins/spf/spf-record.c with the §7 macro syntax check): any bytes in,
 * a parsed record or a syntax error out, never a crash, leak or undefined
 * behaviour. A parsed record is checked: every term lies inside the
 * record's copy, CIDR lengths are in range, at most one redirect= and one
 * exp=, and every domain-spec passes the macro syntax check again.
 * Build and run: see fuzz/README.md.
 */
// fuzz-sources: plugins/spf/spf-eval.c plugins/spf/spf-mech.c plugins/spf/spf-names.c
// fuzz-sources: plugins/spf/spf-macro.c plugins/spf/spf-record.c
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mw/alloc.h"
#include "spf/spf-ctx.h"
#include "spf/spf-record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_term(const struct mw_spf_record *r, const struct mw_spf_term *t)
{
    size_t len = strlen(r->buf);

    if (t->text < r->buf || t->text + t->tlen > r->buf + len || t->tlen == 0)
        abort();
    if (t->arg && (t->arg < t->text || t->arg + t->alen > t->text + t->tlen))
        abort();
    if (t->c4 < 0 || t->c4 > 32 || t->c6 < 0 || t->c6 > 128)
        abort();
    if (t->arg && t->kind != MW_SPF_IP4 && t->kind != MW_SPF_IP6 &&
        mw_spf_macro_check(t->arg, t->alen, 0, NULL) < 0)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* "v=spf1 " first half the time, so the fuzzer spends its effort on terms. */
    static const char prefix[] = "v=spf1 ";
    int add = size > 0 && (data[0] & 1);
    char *txt = mw_malloc(size + sizeof(prefix));
    struct mw_spf_record r;
    size_t off = add ? sizeof(prefix) - 1 : 0;
    int redirects = 0, exps = 0;

    memcpy(txt, prefix, off);
    memcpy(txt + off, data + (add ? 1 : 0), size - (add ? 1 : 0));
    txt[off + size - (add ? 1 : 0)] = '\0';
    if (mw_spf_record_parse(&r, txt) == 0) {
        for (size_t i = 0; i < r.n; i++) {
            check_term(&r, &r.terms[i]);
            redirects += r.terms[i].kind == MW_SPF_REDIRECT;
            exps += r.terms[i].kind == MW_SPF_EXP;
        }
        if (redirects > 1 || exps > 1 || !mw_spf_record_is_spf(r.buf))
            abort();
    }
    mw_spf_record_release(&r);
    mw_free(&txt);
    return 0;
}
