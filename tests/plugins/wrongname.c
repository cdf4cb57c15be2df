/*
 * wrongname.c - a test plugin whose declared name ("other") differs from
 * its file name: the loader must refuse it when asked for "wrongname".
 * Test-only.
 */
#include "config.h"

#include "mailward-plugin.h"

static int
wrongname_init(const struct mw_host *host, void **state, struct mw_err *err)
{
    return 0;
}

static int
wrongname_configure(void *state, const struct mw_config *cfg, struct mw_err *err)
{
    return 0;
}

static void
wrongname_fini(void **state)
{
}

const struct mw_plugin mailward_plugin = {
    .abi = MW_PLUGIN_ABI,
    .name = "other",
    .version = "1",
    .init = wrongname_init,
    .configure = wrongname_configure,
    .fini = wrongname_fini,
};
