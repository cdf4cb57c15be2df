/*
 * fuzz-pgp-mime.c - libFuzzer target for the pgp plugin's MIME work with
 * GMime (plugins/pgp/mime.c): any bytes as a raw message (header section,
 * blank line, body). Already-encrypted detection, the entity to encrypt
 * (hp="cipher"), to sign with header protection (hp="clear") and without
 * it, and the From address; an entity that is produced must be non-empty
 * and, for signing, 7 bit (RFC 3156 section 3).
 */
// fuzz-sources: plugins/pgp/mime.c lib/spool.c
// fuzz-pkgs: gmime-3.0
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mw/buf.h"
#include "mw/err.h"
#include "pgp/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
entity(const char *msg, size_t len, const char *hp)
{
    struct mw_buf out;
    struct mw_err err;

    mw_buf_init(&out);
    if (mw_pgp_mime_entity(msg, len, hp, "Subject: x\r\n", &out, &err) == 0) {
        if (out.len == 0)
            abort();
        if (hp == NULL || strcmp(hp, "clear") == 0)
            for (size_t i = 0; i < out.len; i++)
                if ((unsigned char)out.data[i] >= 0x80)
                    abort();
    }
    mw_buf_release(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    const char *msg = (const char *)data;
    char addr[256];

    if (!ready) {
        mw_pgp_mime_init();
        ready = 1;
    }
    (void)mw_pgp_mime_is_encrypted(msg, size);
    entity(msg, size, "cipher");
    entity(msg, size, "clear");
    entity(msg, size, NULL);
    if (size < 4096) {
        char *v = malloc(size + 1);
        memcpy(v, data, size);
        v[size] = '\0';
        if (mw_pgp_mime_from_addr(v, addr, sizeof(addr)) == 0 && strlen(addr) >= sizeof(addr))
            abort();
        free(v);
    }
    return 0;
}
