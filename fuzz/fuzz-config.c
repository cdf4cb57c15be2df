/*
 * fuzz-config.c - libFuzzer target for the INI configuration parser and
 * validator (lib/config.c, lib/config-core.c): any bytes in, a config or an
 * error out, never a crash, leak or undefined behaviour.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "mw/config.h"
#include "mw/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int opened;
    struct mw_config *cfg;
    struct mw_err err;

    if (!opened) {
        mw_log_open("fuzz-config", 0);
        opened = 1;
    }
    cfg = mw_config_parse("fuzz.conf", (const char *)data, size, &err);
    if (cfg == NULL)
        return 0;
    if (mw_config_validate(cfg, mw_cfg_core_sections, 5) == 0) {
        char **v = mw_config_list(cfg, "milter", "internal_hosts", NULL);
        mw_strv_free(&v);
        (void)mw_config_int(cfg, "dns", "timeout_ms");
        (void)mw_config_bool(cfg, "general", "debug");
    }
    mw_config_free(&cfg);
    return 0;
}
