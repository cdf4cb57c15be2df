/*
 * badabi.c - a test plugin built for the next plugin ABI: the loader must
 * refuse it and name both ABI numbers. Test-only.
 */
#include "config.h"

#include "mailward-plugin.h"

static int
badabi_init(const struct mw_host *host, void **state, struct mw_err *err)
{
    return 0;
}

static int
badabi_configure(void *state, const struct mw_config *cfg, struct mw_err *err)
{
    return 0;
}

static void
badabi_fini(void **state)
{
}

const struct mw_plugin mailward_plugin = {
    .abi = MW_PLUGIN_ABI + 1,
    .name = "badabi",
    .version = "1",
    .init = badabi_init,
    .configure = badabi_configure,
    .fini = badabi_fini,
};
