/*
 * mw/log.h - the one logging family.
 *
 * One line per event, to syslog (facility mail, ident = program name) and,
 * with mw_log_open(..., to_stderr = 1) (the daemons' -f), also to stderr.
 * Lines about a message start with its queue id, Postfix style:
 * "4BxyzQ1Kq0z: inbound spf=pass dkim=none action=accept".
 *
 * mw_log_fatal() exits with the given sysexits code; mw_log_panic() is for
 * broken invariants and aborts. Thread-safe (syslog(3) and a locked stderr).
 */
#ifndef MW_LOG_H
#define MW_LOG_H

#include <stdarg.h>

/* Start logging as `ident`; to_stderr also copies every line to stderr. */
void mw_log_open(const char *ident, int to_stderr);
/* Copy lines to stderr (1) or not (0), e.g. for command-line tools. */
void mw_log_set_stderr(int on);
/* Drop debug lines unless on. */
void mw_log_set_debug(int on);

void mw_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mw_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mw_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mw_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Log and exit(status) (a sysexits.h code). */
void mw_log_fatal(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* Log and abort(): a broken invariant. */
void mw_log_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
