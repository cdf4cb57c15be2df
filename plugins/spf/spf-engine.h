/*
 * spf-engine.h - the two interchangeable SPF engines behind one call.
 *
 * [spf] engine = native | libspf2 selects one. Both evaluate RFC 7208
 * check_host() over the same DNS callback (struct mw_spf_dns, spf-eval.h),
 * so the plugin feeds both from lib/dns and the RFC 7208 suite runner feeds
 * both from the suite's zone data:
 *   native   spf-eval.c, the evaluator of this plugin (passes the suite);
 *   libspf2  spf-libspf2.c, Debian's libspf2 with an SPF_dns_server_t whose
 *            lookups go through the callback (known to fail parts of the
 *            suite: ../shared/testdata/spf/libspf2-conformance.md).
 * check_host() always fills *out; release it with mw_spf_verdict_release().
 * Thread-safety: both engines may run in several threads at once.
 */
#ifndef MW_SPF_ENGINE_H
#define MW_SPF_ENGINE_H

#include "spf-eval.h"

struct mw_spf_engine {
    const char *name; /* "native" or "libspf2" */
    void (*check_host)(const struct mw_spf_dns *dns, const struct mw_spf_ip *ip, const char *domain,
                       const char *sender, const char *helo, const char *receiver,
                       struct mw_spf_verdict *out);
};

extern const struct mw_spf_engine mw_spf_engine_native;
extern const struct mw_spf_engine mw_spf_engine_libspf2;

/* The engine called name, or NULL. */
const struct mw_spf_engine *mw_spf_engine_find(const char *name);

#endif
