/*
 * log.c - syslog and stderr logging (see mw/log.h).
 *
 * Lines are formatted once into a bounded stack buffer (a longer line is
 * logged with a visible "..." mark rather than silently cut) and written to
 * syslog with facility mail, as Postfix does.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "mw/err.h"
#include "mw/log.h"

#define MW_LOG_LINE 2048

static const char *log_ident = "mailward";
static int log_stderr;
static int log_debug;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void
mw_log_open(const char *ident, int to_stderr)
{
    log_ident = ident;
    log_stderr = to_stderr;
    openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
mw_log_set_stderr(int on)
{
    log_stderr = on;
}

void
mw_log_set_debug(int on)
{
    log_debug = on;
}

static void
mw_log_emit(int prio, const char *tag, const char *fmt, va_list ap)
{
    char line[MW_LOG_LINE];
    int n;

    n = vsnprintf(line, sizeof(line), fmt, ap);
    if (n < 0)
        snprintf(line, sizeof(line), "(unformattable log line: %s)", fmt);
    else if ((size_t)n >= sizeof(line))
        memcpy(line + sizeof(line) - 4, "...", 4);
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    syslog(prio, "%s%s", tag, line);
    if (log_stderr) {
        pthread_mutex_lock(&log_lock);
        fprintf(stderr, "%s[%ld]: %s%s\n", log_ident, (long)getpid(), tag, line);
        fflush(stderr);
        pthread_mutex_unlock(&log_lock);
    }
}

#define MW_LOG_FN(fn, prio, tag)                                                                   \
    void fn(const char *fmt, ...)                                                                  \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        mw_log_emit(prio, tag, fmt, ap);                                                           \
        va_end(ap);                                                                                \
    }

MW_LOG_FN(mw_log_info, LOG_INFO, "")
MW_LOG_FN(mw_log_warn, LOG_WARNING, "warning: ")
MW_LOG_FN(mw_log_error, LOG_ERR, "error: ")

void
mw_log_debug(const char *fmt, ...)
{
    va_list ap;

    if (!log_debug)
        return;
    va_start(ap, fmt);
    mw_log_emit(LOG_DEBUG, "debug: ", fmt, ap);
    va_end(ap);
}

void
mw_log_fatal(int status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    mw_log_emit(LOG_CRIT, "fatal: ", fmt, ap);
    va_end(ap);
    exit(status);
}

void
mw_log_panic(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    mw_log_emit(LOG_CRIT, "panic: ", fmt, ap);
    va_end(ap);
    abort();
}

int
mw_err_vset(struct mw_err *err, const char *fmt, va_list ap)
{
    if (err != NULL)
        vsnprintf(err->text, sizeof(err->text), fmt, ap);
    return -1;
}

int
mw_err_set(struct mw_err *err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    mw_err_vset(err, fmt, ap);
    va_end(ap);
    return -1;
}
