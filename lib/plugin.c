/*
 * plugin.c - loading plugin modules (see mw/plugins.h).
 *
 * Modules are opened RTLD_NOW so that a missing symbol fails at start-up,
 * not in the middle of a message, and RTLD_LOCAL so that every module can
 * export the same MW_PLUGIN_SYMBOL.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "mw/alloc.h"
#include "mw/log.h"
#include "mw/plugins.h"

int
mw_plugin_open_file(const char *path, const char *expect_name, struct mw_plugin_handle *h,
                    struct mw_err *err)
{
    const struct mw_plugin *p;
    void *dl;

    memset(h, 0, sizeof(*h));
    dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL)
        return mw_err_set(err, "plugin %s: cannot load: %s", path, dlerror());
    p = dlsym(dl, MW_PLUGIN_SYMBOL);
    if (p == NULL) {
        dlclose(dl);
        return mw_err_set(err, "plugin %s: not a mailward plugin (no \"%s\" symbol)", path,
                          MW_PLUGIN_SYMBOL);
    }
    if (p->abi != MW_PLUGIN_ABI) {
        unsigned int abi = p->abi;
        dlclose(dl);
        return mw_err_set(err, "plugin %s: built for plugin ABI %u, this program needs ABI %u: "
                               "rebuild the plugin against this mailward",
                          path, abi, MW_PLUGIN_ABI);
    }
    /* Format the error before dlclose(): p points into the module. */
    if (p->name != NULL && expect_name != NULL && strcmp(p->name, expect_name) != 0) {
        mw_err_set(err, "plugin %s: declares the name \"%s\", expected \"%s\"", path, p->name,
                   expect_name);
        dlclose(dl);
        return -1;
    }
    if (p->name == NULL || p->init == NULL || p->configure == NULL || p->fini == NULL) {
        mw_err_set(err, "plugin %s: malformed plugin (name %s, hooks missing?)", path,
                   p->name ? p->name : "(none)");
        dlclose(dl);
        return -1;
    }
    h->dl = dl;
    h->plugin = p;
    h->path = mw_strdup(path);
    return 0;
}

static void
mw_plugins_push(struct mw_plugins *ps, const struct mw_plugin_handle *h)
{
    ps->v = mw_reallocarray(ps->v, ps->n + 1, sizeof(*ps->v));
    ps->v[ps->n++] = *h;
}

int
mw_plugins_open(struct mw_plugins *ps, const char *dir, char *const *names, struct mw_err *err)
{
    char path[PATH_MAX];
    struct mw_plugin_handle h;

    for (char *const *n = names; *n; n++) {
        if (strchr(*n, '/') != NULL || snprintf(path, sizeof(path), "%s/%s.so", dir, *n) >=
                                           (int)sizeof(path))
            return mw_err_set(err, "plugin name \"%s\" is not a plain name", *n);
        for (size_t i = 0; i < ps->n; i++)
            if (strcmp(ps->v[i].plugin->name, *n) == 0)
                return mw_err_set(err, "plugin %s is listed twice", *n);
        if (mw_plugin_open_file(path, *n, &h, err) < 0)
            return -1;
        mw_plugins_push(ps, &h);
    }
    return 0;
}

int
mw_plugins_start(struct mw_plugins *ps, const struct mw_host *host, const struct mw_config *cfg,
                 struct mw_err *err)
{
    struct mw_err perr;

    for (size_t i = 0; i < ps->n; i++) {
        struct mw_plugin_handle *h = &ps->v[i];
        if (h->plugin->init(host, &h->state, &perr) < 0)
            return mw_err_set(err, "plugin %s: %s", h->plugin->name, perr.text);
        if (h->plugin->configure(h->state, cfg, &perr) < 0)
            return mw_err_set(err, "plugin %s: %s", h->plugin->name, perr.text);
    }
    return 0;
}

int
mw_plugins_configure(struct mw_plugins *ps, const struct mw_config *cfg, struct mw_err *err)
{
    struct mw_err perr;

    for (size_t i = 0; i < ps->n; i++)
        if (ps->v[i].plugin->configure(ps->v[i].state, cfg, &perr) < 0)
            return mw_err_set(err, "plugin %s: %s", ps->v[i].plugin->name, perr.text);
    return 0;
}

void
mw_plugins_close(struct mw_plugins *ps)
{
    for (size_t i = ps->n; i-- > 0;) {
        struct mw_plugin_handle *h = &ps->v[i];
        if (h->state != NULL)
            h->plugin->fini(&h->state);
        dlclose(h->dl);
        mw_free(&h->path);
    }
    mw_free(&ps->v);
    ps->n = 0;
}

size_t
mw_plugins_schema(const char *dir, struct mw_plugins *keep, const struct mw_cfg_section ***out)
{
    const struct mw_cfg_section **v = NULL;
    size_t n = 0;
    DIR *d;
    struct dirent *de;
    struct mw_err err;

    for (const struct mw_cfg_section *const *s = mw_cfg_core_sections; *s; s++) {
        v = mw_reallocarray(v, n + 1, sizeof(*v));
        v[n++] = *s;
    }
    if ((d = opendir(dir)) == NULL) {
        mw_log_warn("plugin_dir %s: cannot read: %m", dir);
    } else {
        while ((de = readdir(d)) != NULL) {
            char path[PATH_MAX];
            struct mw_plugin_handle h;
            size_t len = strlen(de->d_name);

            if (len < 4 || strcmp(de->d_name + len - 3, ".so") != 0 ||
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
                continue;
            if (mw_plugin_open_file(path, NULL, &h, &err) < 0) {
                mw_log_warn("%s", err.text);
                continue;
            }
            mw_plugins_push(keep, &h);
            for (const struct mw_cfg_section *const *s = h.plugin->sections; s && *s; s++) {
                v = mw_reallocarray(v, n + 1, sizeof(*v));
                v[n++] = *s;
            }
        }
        closedir(d);
    }
    v = mw_reallocarray(v, n + 1, sizeof(*v));
    v[n] = NULL;
    *out = v;
    return n;
}
