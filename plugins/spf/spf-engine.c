/*
 * spf-engine.c - the engine table of spf-engine.h: the native evaluator
 * (spf-eval.c) under its engine name, and the lookup by name. The libspf2
 * engine lives in spf-libspf2.c. Thread-safe (constant data).
 */
#include "config.h"

#include <string.h>

#include "spf-engine.h"

const struct mw_spf_engine mw_spf_engine_native = {"native", mw_spf_check_host};

const struct mw_spf_engine *
mw_spf_engine_find(const char *name)
{
    static const struct mw_spf_engine *const engines[] = {&mw_spf_engine_native,
                                                          &mw_spf_engine_libspf2};

    for (size_t i = 0; name && i < sizeof(engines) / sizeof(engines[0]); i++)
        if (strcmp(engines[i]->name, name) == 0)
            return engines[i];
    return NULL;
}
