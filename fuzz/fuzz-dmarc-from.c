/*
 * fuzz-dmarc-from.c - libFuzzer target for plugins/dmarc/from.c: the
 * author domains of a From header value, as a sender controls it.
 * Build and run: see fuzz/README.md.
 */
// fuzz-sources: plugins/dmarc/from.c
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc/from.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A returned domain is a lowercase host name: what the DNS lookup and the PSL expect. */
static void
check_domain(const char *d)
{
    size_t n = strlen(d), label = 0;

    if (n == 0 || n > MW_DNS_NAME_MAX || d[0] == '.' || d[n - 1] == '.')
        abort();
    for (size_t i = 0; i < n; i++) {
        if (d[i] == '.') {
            if (label == 0)
                abort();
            label = 0;
        } else if ((d[i] >= 'a' && d[i] <= 'z') || (d[i] >= '0' && d[i] <= '9') || d[i] == '-' ||
                   d[i] == '_') {
            label++;
        } else {
            abort();
        }
        if (label > 63)
            abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mw_dmarc_from f;
    struct mw_err err;

    if (mw_dmarc_from_parse((const char *)data, size, &f, &err) < 0) {
        if (err.text[0] == '\0')
            abort();
        return 0;
    }
    if (f.mailboxes == 0) {
        if (f.domain[0] != '\0' || f.other[0] != '\0')
            abort();
        return 0;
    }
    check_domain(f.domain);
    if (f.other[0] != '\0') {
        check_domain(f.other);
        if (f.mailboxes < 2 || strcmp(f.domain, f.other) == 0)
            abort();
    }
    return 0;
}
