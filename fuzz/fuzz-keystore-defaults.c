/*
 * fuzz-keystore-defaults.c - libFuzzer target for the keystore's defaults
 * file parser (lib/keystore-defaults.c): any bytes; every entry handed out
 * must be a NUL-terminated address with one @ and a 40/64 hex fingerprint.
 */
// fuzz-sources: lib/keystore-defaults.c
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mw/keystore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
check(const char *address, const char *fpr, void *arg)
{
    size_t fl = strlen(fpr);

    (void)arg;
    if (strchr(address, '@') == NULL || strlen(address) > 254 || (fl != 40 && fl != 64))
        abort();
    for (size_t i = 0; i < fl; i++)
        if (!isxdigit((unsigned char)fpr[i]) || islower((unsigned char)fpr[i]))
            abort();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mw_err err;

    mw_keystore_defaults_parse((const char *)data, size, check, NULL, &err);
    return 0;
}
