/*
 * mailward-plugin.h - the plugin ABI: what a check module exports.
 *
 * A plugin is a shared module NAME.so in plugin_dir that exports one symbol,
 * MW_PLUGIN_SYMBOL, a struct mw_plugin. The daemons are thin hosts: they
 * load the modules named in their "plugins" list, in order, and call them.
 *
 * Lifecycle (host thread, never concurrently with hooks of the same call):
 *   init(host, &state, err)        once, after the config is validated
 *   configure(state, cfg, err)     once at start, then at every SIGHUP
 *                                  (reload); on error the plugin must keep
 *                                  its previous settings and the host keeps
 *                                  running on them; the host never runs
 *                                  configure while any hook of any
 *                                  thread runs (mailward-milter holds a
 *                                  read-write lock), so settings need no
 *                                  lock of their own against the hooks
 *   fini(&state)                   at exit
 *
 * Milter hooks (mailward-milter, one thread per SMTP connection; a hook may
 * block, e.g. on DNS through lib/dns): every hook returns an enum mw_verdict;
 * the first non-CONTINUE verdict ends the message for every plugin. Header
 * changes and Authentication-Results entries are recorded with mw/msg.h and
 * applied by the host at end of message.
 *
 * Policy hooks (mailward-policyd, one libevent thread; never block):
 *   tls_policy(state, q)  answer with mw_tlsq_reply() now or later, once.
 *   access(state, q)      answer with mw_accessq_reply() now or later, once.
 * NOTFOUND / DUNNO passes the question to the next plugin; mw_tlsq_fallback()
 * passes it on with a policy to answer if no later plugin has one.
 * At exit mailward-policyd closes the shared cache, then the resolver, and
 * only then calls fini: closing answers pending asynchronous work (cache
 * misses, DNS failures), so a plugin's callbacks run before its fini. A
 * callback that runs while the cache closes must not call the cache again;
 * after closing, host->cache and host->dns are NULL.
 *
 * A plugin's settings live in its own INI sections, declared in .sections;
 * the host validates them with the rest of the file (mw/config.h).
 */
#ifndef MAILWARD_PLUGIN_H
#define MAILWARD_PLUGIN_H

#include "mw/config.h"
#include "mw/err.h"
#include "mw/msg.h"
#include "mw/policy.h"

/* Bump on any incompatible change of this file or of the headers it includes. */
#define MW_PLUGIN_ABI 1
#define MW_PLUGIN_SYMBOL "mailward_plugin"

struct mw_cache;
struct mw_dns;
struct event_base;

/*
 * What the host lends a plugin. Keep the pointer given to init, not copies of
 * the members: cache and dns are opened after the daemon detaches, before the
 * first hook runs; during init/configure, and under -n, they may be NULL.
 * Pointers stay valid until fini.
 */
struct mw_host {
    const char *program;     /* "mailward-milter" or "mailward-policyd" */
    struct mw_cache *cache;  /* shared cache (mw/cache.h) */
    struct mw_dns *dns;      /* shared resolver (mw/dns.h) */
    struct event_base *base; /* policyd's event loop; NULL in the milter */
};

struct mw_milter_hooks {
    enum mw_verdict (*connect)(void *state, struct mw_msg *msg);
    enum mw_verdict (*helo)(void *state, struct mw_msg *msg);
    enum mw_verdict (*mail)(void *state, struct mw_msg *msg);
    enum mw_verdict (*rcpt)(void *state, struct mw_msg *msg, const char *rcpt);
    enum mw_verdict (*header)(void *state, struct mw_msg *msg, const char *name,
                              const char *value);
    enum mw_verdict (*eoh)(void *state, struct mw_msg *msg);
    enum mw_verdict (*body)(void *state, struct mw_msg *msg, const unsigned char *data,
                            size_t len);
    enum mw_verdict (*eom)(void *state, struct mw_msg *msg);
    /* The message ended (eom done, aborted or connection lost): free per-message data. */
    void (*done)(void *state, struct mw_msg *msg);
};

struct mw_policy_hooks {
    void (*tls_policy)(void *state, struct mw_tlsq *q);
    void (*access)(void *state, struct mw_accessq *q);
};

struct mw_plugin {
    unsigned int abi; /* MW_PLUGIN_ABI */
    const char *name; /* equals the file name without .so */
    const char *version;
    const struct mw_cfg_section *const *sections; /* NULL-terminated; may be NULL */
    int (*init)(const struct mw_host *host, void **state, struct mw_err *err);
    int (*configure)(void *state, const struct mw_config *cfg, struct mw_err *err);
    void (*fini)(void **state);
    const struct mw_milter_hooks *milter; /* NULL: not a milter plugin */
    const struct mw_policy_hooks *policy; /* NULL: not a policy plugin */
};

#endif
