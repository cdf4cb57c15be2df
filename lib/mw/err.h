/*
 * mw/err.h - the one error convention.
 *
 * Functions that can fail return 0 on success and -1 on failure, and fill a
 * caller-supplied struct mw_err with one line saying what went wrong (with
 * file and line where there is one). Only main() decides to exit.
 */
#ifndef MW_ERR_H
#define MW_ERR_H

#include <stdarg.h>

#define MW_ERR_MAX 512

struct mw_err {
    char text[MW_ERR_MAX];
};

/* Format into err (if not NULL) and return -1, so "return mw_err_set(...)" works. */
int mw_err_set(struct mw_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int mw_err_vset(struct mw_err *err, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
