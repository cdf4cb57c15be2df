/*
 * mw/plugins.h - the host side of the plugin ABI: finding and loading modules.
 *
 * mw_plugins_open() loads the named modules from plugin_dir, in order. A
 * module built for another ABI, missing the MW_PLUGIN_SYMBOL export, or
 * whose name differs from its file is refused with a message that says so.
 *
 * mw_plugins_schema() opens every module installed in plugin_dir (without
 * initialising it) to learn the INI sections it declares: one configuration
 * file serves both daemons, so each must accept the other's plugin sections.
 * Single-threaded: called at start-up and on reload only.
 */
#ifndef MW_PLUGINS_H
#define MW_PLUGINS_H

#include <stddef.h>

#include "mailward-plugin.h"

struct mw_plugin_handle {
    void *dl;
    const struct mw_plugin *plugin;
    void *state; /* from plugin->init */
    char *path;
};

struct mw_plugins {
    struct mw_plugin_handle *v;
    size_t n;
};

/* Open one module file; on failure nothing is left open. */
int mw_plugin_open_file(const char *path, const char *expect_name, struct mw_plugin_handle *h,
                        struct mw_err *err);
/* Open dir/NAME.so for each name, in order. */
int mw_plugins_open(struct mw_plugins *ps, const char *dir, char *const *names,
                    struct mw_err *err);
/* Call init then configure on each; on failure err names the plugin. */
int mw_plugins_start(struct mw_plugins *ps, const struct mw_host *host,
                     const struct mw_config *cfg, struct mw_err *err);
/* Call configure on each (reload); stops at the first failure. */
int mw_plugins_configure(struct mw_plugins *ps, const struct mw_config *cfg, struct mw_err *err);
/* fini (if started) and dlclose every module. */
void mw_plugins_close(struct mw_plugins *ps);

/*
 * Core sections plus the sections of every module in dir, NULL-terminated,
 * in *out (free with mw_free); the modules stay open in *keep until
 * mw_plugins_close(keep). Modules that fail to open are skipped with a warning.
 */
size_t mw_plugins_schema(const char *dir, struct mw_plugins *keep,
                         const struct mw_cfg_section ***out);

#endif
