/*
 * fuzz-pgp-password-header.c - libFuzzer target for the Encrypt-Password
 * field parser (mw_pgp_password_from_header, plugins/pgp/password.c): any
 * bytes as the raw field value; an accepted password must be non-empty, at
 * most MW_PGP_PASSWORD_MAX bytes, with no CR, LF, NUL or other control
 * character but tab. The header_ok predicate is checked on the way.
 */
// fuzz-sources: plugins/pgp/password.c
// fuzz-pkgs: gpgme gmime-3.0
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgp/password.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char pw[MW_PGP_PASSWORD_MAX + 1];
    struct mw_err err;
    size_t n;

    if (mw_pgp_password_header_ok(1, "") || mw_pgp_password_header_ok(0, "a") ||
        !mw_pgp_password_header_ok(1, "a"))
        abort();
    if (mw_pgp_password_from_header((const char *)data, size, pw, &err) < 0)
        return 0;
    n = strlen(pw);
    if (n == 0 || n > MW_PGP_PASSWORD_MAX)
        abort();
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)pw[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            abort();
    }
    return 0;
}
