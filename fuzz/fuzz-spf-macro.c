/*
 * fuzz-spf-macro.c - libFuzzer target for RFC 7208 §7 macro expansion
 * (plugins/spf/spf-macro.c) with a context: the input is
 *   byte 0      flags: bit 0 explain-string, bit 1 IPv6 client, bits 2-7
 *               the output buffer size (0: MW_SPF_EXPAND_MAX)
 *   bytes 1-16  the client address
 *   the rest    macro-string, sender, HELO, current domain, receiver and
 *               the client's PTR name, separated by newlines.
 * Lookups (for %{p}) answer the PTR name for the reverse name and the
 * client's own address for any name. Checked: a string the syntax check
 * rejects never expands; an expansion is NUL-terminated inside the buffer;
 * a macro-string that expands exactly expands to the same name (for a
 * query, where only the right part is kept when it is long), which is then
 * prepared for a query (§7.3 truncation).
 * Build and run: see fuzz/README.md.
 */
// fuzz-sources: plugins/spf/spf-eval.c plugins/spf/spf-mech.c plugins/spf/spf-names.c
// fuzz-sources: plugins/spf/spf-macro.c plugins/spf/spf-record.c
#include "config.h"

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mw/alloc.h"
#include "spf/spf-ctx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
    struct mw_spf_ip ip;
    const char *ptr;
};

static enum mw_spf_dns_rc
lookup(void *ctx, const char *name, enum mw_spf_qtype type, struct mw_spf_rrset *out)
{
    const struct input *in = ctx;

    if (type == MW_SPF_PTR && strstr(name, ".arpa") && *in->ptr) {
        mw_spf_rrset_add_str(out, in->ptr, strlen(in->ptr));
        return MW_SPF_DNS_OK;
    }
    if ((type == MW_SPF_A && in->ip.family == AF_INET) ||
        (type == MW_SPF_AAAA && in->ip.family == AF_INET6)) {
        mw_spf_rrset_add_ip(out, &in->ip);
        return MW_SPF_DNS_OK;
    }
    return MW_SPF_DNS_NXDOMAIN;
}

/* The next newline-separated field of text (NUL-terminated in place). */
static char *
field(char **p)
{
    char *s = *p, *nl = strchr(s, '\n');

    if (nl) {
        *nl = '\0';
        *p = nl + 1;
    } else {
        *p = s + strlen(s);
    }
    return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[MW_SPF_EXPAND_MAX], name[MW_SPF_EXPAND_MAX], prepared[MW_SPF_NAME_MAX + 1];
    char *text, *p, *macro;
    struct mw_spf_ctx ctx;
    struct mw_spf_dns dns;
    struct input in;
    size_t outsz, mlen;
    int exp, ok;

    if (size < 17)
        return 0;
    exp = data[0] & 1;
    outsz = (size_t)(data[0] >> 2) ? (size_t)(data[0] >> 2) : sizeof(out);
    memset(&in, 0, sizeof(in));
    in.ip.family = (data[0] & 2) ? AF_INET6 : AF_INET;
    memcpy(in.ip.b, data + 1, in.ip.family == AF_INET ? 4 : 16);
    text = mw_strndup((const char *)data + 17, size - 17);
    p = text;
    macro = field(&p);
    mlen = strlen(macro);

    memset(&ctx, 0, sizeof(ctx));
    dns.lookup = lookup;
    dns.ctx = &in;
    ctx.dns = &dns;
    ctx.ip = in.ip;
    clock_gettime(CLOCK_MONOTONIC, &ctx.started);
    ctx.sender = mw_strdup(field(&p));
    ctx.local = mw_strdup("postmaster");
    ctx.sdomain = mw_strdup(strchr(ctx.sender, '@') ? strchr(ctx.sender, '@') + 1 : "");
    ctx.helo = mw_strdup(field(&p));
    ctx.domain = field(&p);
    ctx.receiver = mw_strdup(field(&p));
    in.ptr = field(&p);

    ok = mw_spf_macro_check(macro, mlen, exp, NULL) == 0;
    if (mw_spf_macro_expand(&ctx, macro, mlen, exp, out, outsz) == 0) {
        if (!ok || strnlen(out, outsz) >= outsz)
            abort();
        /* What fits exactly comes out the same as a name. */
        if (!exp && (mw_spf_macro_expand_name(&ctx, macro, mlen, name, sizeof(name)) < 0 ||
                     strcmp(out, name) != 0))
            abort();
    }
    if (!exp && mw_spf_macro_expand_name(&ctx, macro, mlen, name, sizeof(name)) == 0) {
        if (!ok || strnlen(name, sizeof(name)) >= sizeof(name))
            abort();
        (void)mw_spf_name_prepare(name, strlen(name), prepared);
    }
    mw_spf_ctx_release(&ctx);
    mw_free(&text);
    return 0;
}
