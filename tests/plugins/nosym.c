/*
 * nosym.c - a shared module that is not a mailward plugin: it exports no
 * mailward_plugin symbol, and the loader must say so. Test-only.
 */
#include "config.h"

int nosym_answer(void);

int
nosym_answer(void)
{
    return 42;
}
