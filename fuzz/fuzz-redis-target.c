/*
 * fuzz-redis-target.c - libFuzzer target for [cache] redis
 * (lib/redis-target.c): any bytes as the configured value; a value that
 * parses must name a server with a host or a Unix path, or 1..8 sentinels
 * with a host and a port each and a master name of the allowed characters.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mw/redis-target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mw_redis_target t;
    struct mw_err err;
    char *spec;

    if (size > 4096)
        return 0;
    spec = malloc(size + 1);
    memcpy(spec, data, size);
    spec[size] = '\0';
    if (mw_redis_target_parse(spec, &t, &err) == 0) {
        if (!t.sentinel) {
            if (!t.direct.is_unix && t.direct.host[0] == '\0')
                abort();
        } else {
            size_t mlen = strlen(t.master);

            if (t.nsentinels < 1 || t.nsentinels > MW_REDIS_SENTINELS_MAX || mlen == 0 ||
                mlen > MW_REDIS_MASTER_MAX ||
                strspn(t.master,
                       "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != mlen)
                abort();
            for (size_t i = 0; i < t.nsentinels; i++)
                if (t.sentinels[i].is_unix || t.sentinels[i].host[0] == '\0' ||
                    t.sentinels[i].port[0] == '\0')
                    abort();
        }
    } else if (err.text[0] == '\0') {
        abort();
    }
    free(spec);
    return 0;
}
