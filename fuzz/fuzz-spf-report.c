/*
 * fuzz-spf-report.c - libFuzzer target for plugins/spf/spf-report.c: the
 * Received-SPF header and Authentication-Results values the spf plugin
 * writes from what an SMTP client (MAIL FROM, HELO) and a sender's DNS
 * (mechanism, problem) control. The input is split at NUL bytes into
 * envelope-from, HELO, mechanism, problem and client address; its first
 * byte picks the result. Checked: the header value holds no CR, every LF
 * is a fold (followed by a blank), no other control byte; a property value
 * is bare only when it has no blank, ';', '"', '(' or control byte, else a
 * well-formed quoted-string; reply text is printable ASCII.
 * Build and run: see fuzz/README.md.
 */
// fuzz-sources: plugins/spf/spf-report.c plugins/spf/spf-eval.c plugins/spf/spf-mech.c
// fuzz-sources: plugins/spf/spf-names.c plugins/spf/spf-macro.c plugins/spf/spf-record.c
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mw/alloc.h"
#include "spf/spf-report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_header(const char *v)
{
    for (const char *p = v; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\n' ? p[1] != ' ' : (c < 0x20 || c == 0x7f))
            abort();
    }
}

static void
check_pvalue(const char *s)
{
    size_t len = strlen(s);

    if (s[0] != '"') {
        if (strpbrk(s, " ;\"()\\") != NULL)
            abort();
    } else {
        /* A quoted-string: closing quote last, every inner '"' and '\' escaped. */
        size_t i = 1;

        if (len < 2 || s[len - 1] != '"')
            abort();
        while (i < len - 1) {
            if (s[i] == '"' || (s[i] == '\\' && i + 1 >= len - 1))
                abort();
            i += s[i] == '\\' ? 2 : 1;
        }
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text, *field[5] = {"", "", "", "", ""}, *p, *v;
    struct mw_spf_report r;
    struct mw_buf b;
    size_t n = 0;

    if (size == 0)
        return 0;
    text = mw_malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    for (p = text; n < 5; p += strlen(p) + 1) {
        field[n++] = p;
        if (p + strlen(p) >= text + size - 1)
            break;
    }
    memset(&r, 0, sizeof(r));
    r.result = (enum mw_spf_result)(data[0] % 7);
    r.identity = data[0] & 0x80 ? "helo" : "mailfrom";
    r.envelope_from = field[0];
    r.sender = field[0];
    r.helo = *field[1] ? field[1] : NULL;
    r.mechanism = *field[2] ? field[2] : NULL;
    r.problem = *field[3] ? field[3] : NULL;
    r.client_ip = field[4];
    r.receiver = "mx.example.com";
    v = mw_spf_received(&r);
    check_header(v);
    mw_free(&v);

    mw_buf_init(&b);
    for (size_t i = 0; i < 5; i++) {
        mw_buf_reset(&b);
        mw_spf_pvalue(&b, field[i]);
        check_pvalue(b.data);
        mw_buf_reset(&b);
        mw_spf_text(&b, field[i], 200);
        for (const unsigned char *q = (const unsigned char *)b.data; *q; q++)
            if (*q < 0x20 || *q >= 0x7f)
                abort();
        (void)mw_spf_domain_ok(field[i]);
    }
    mw_buf_release(&b);
    mw_free(&text);
    return 0;
}
