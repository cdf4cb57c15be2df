/*
 * mw/net.h - listening endpoints.
 *
 * An endpoint is written "HOST:PORT", "[IPV6]:PORT" or "unix:PATH" (a Unix
 * socket, created with mode 0666 unless "unix:PATH:MODE" gives an octal
 * mode). mw_net_listen() binds it, sets close-on-exec and non-blocking, and
 * removes a stale Unix socket first. Pure parsing (mw_endpoint_parse) is
 * separate so configuration checks and fuzzing need no sockets.
 */
#ifndef MW_NET_H
#define MW_NET_H

#include <sys/types.h>

#include "mw/err.h"

struct mw_endpoint {
    int is_unix;
    char host[256]; /* without brackets */
    char port[8];
    char path[108]; /* sun_path size */
    mode_t mode;
};

/* Parse spec into ep. */
int mw_endpoint_parse(const char *spec, struct mw_endpoint *ep, struct mw_err *err);
/* Configuration check wrapper (struct mw_cfg_key.check). */
int mw_endpoint_check(const char *spec, struct mw_err *err);
/* Bind and listen; returns the socket or -1. */
int mw_net_listen(const struct mw_endpoint *ep, int backlog, struct mw_err *err);
/* Connect (blocking, with a timeout in ms) to a TCP endpoint; returns the socket or -1. */
int mw_net_connect(const struct mw_endpoint *ep, int timeout_ms, struct mw_err *err);

#endif
