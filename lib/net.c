/*
 * net.c - listening endpoints (see mw/net.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "mw/net.h"

static int
mw_endpoint_parse_port(const char *s, struct mw_endpoint *ep, const char *spec, struct mw_err *err)
{
    char *end;
    long port;

    errno = 0;
    port = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0 || port < 1 || port > 65535)
        return mw_err_set(err, "\"%s\": port must be a number from 1 to 65535", spec);
    snprintf(ep->port, sizeof(ep->port), "%ld", port);
    return 0;
}

static int
mw_endpoint_parse_unix(const char *spec, struct mw_endpoint *ep, struct mw_err *err)
{
    const char *path = spec + 5;
    const char *colon = strrchr(path, ':');
    size_t len = colon ? (size_t)(colon - path) : strlen(path);

    if (len == 0 || path[0] != '/')
        return mw_err_set(err, "\"%s\": a Unix socket needs an absolute path", spec);
    if (len >= sizeof(ep->path))
        return mw_err_set(err, "\"%s\": Unix socket path too long", spec);
    memcpy(ep->path, path, len);
    ep->path[len] = '\0';
    ep->is_unix = 1;
    ep->mode = 0666;
    if (colon != NULL) {
        char *end;
        long mode = strtol(colon + 1, &end, 8);
        if (colon[1] == '\0' || *end != '\0' || mode < 0 || mode > 0777)
            return mw_err_set(err, "\"%s\": mode must be octal, e.g. 0660", spec);
        ep->mode = (mode_t)mode;
    }
    return 0;
}

int
mw_endpoint_parse(const char *spec, struct mw_endpoint *ep, struct mw_err *err)
{
    const char *colon;
    size_t hlen;

    memset(ep, 0, sizeof(*ep));
    if (strncmp(spec, "unix:", 5) == 0)
        return mw_endpoint_parse_unix(spec, ep, err);
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (close == NULL || close[1] != ':')
            return mw_err_set(err, "\"%s\": expected [IPV6]:PORT", spec);
        hlen = (size_t)(close - spec - 1);
        if (hlen == 0 || hlen >= sizeof(ep->host))
            return mw_err_set(err, "\"%s\": bad IPv6 address", spec);
        memcpy(ep->host, spec + 1, hlen);
        return mw_endpoint_parse_port(close + 2, ep, spec, err);
    }
    colon = strrchr(spec, ':');
    if (colon == NULL || colon == spec)
        return mw_err_set(err, "\"%s\": expected HOST:PORT, [IPV6]:PORT or unix:PATH", spec);
    hlen = (size_t)(colon - spec);
    if (hlen >= sizeof(ep->host) || memchr(spec, ':', hlen) != NULL)
        return mw_err_set(err, "\"%s\": bad host (write IPv6 addresses as [ADDR]:PORT)", spec);
    memcpy(ep->host, spec, hlen);
    return mw_endpoint_parse_port(colon + 1, ep, spec, err);
}

int
mw_endpoint_check(const char *spec, struct mw_err *err)
{
    struct mw_endpoint ep;

    return mw_endpoint_parse(spec, &ep, err);
}

static int
mw_net_listen_unix(const struct mw_endpoint *ep, int backlog, struct mw_err *err)
{
    struct sockaddr_un sun;
    struct stat st;
    int fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, ep->path, strlen(ep->path) + 1);
    if (lstat(ep->path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(ep->path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return mw_err_set(err, "socket: %s", strerror(errno));
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(ep->path, ep->mode) < 0 ||
        listen(fd, backlog) < 0) {
        mw_err_set(err, "unix:%s: %s", ep->path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int
mw_net_resolve(const struct mw_endpoint *ep, int passive, struct addrinfo **res,
               struct mw_err *err)
{
    struct addrinfo hints;
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    rc = getaddrinfo(ep->host, ep->port, &hints, res);
    if (rc != 0)
        return mw_err_set(err, "%s:%s: %s", ep->host, ep->port, gai_strerror(rc));
    return 0;
}

int
mw_net_listen(const struct mw_endpoint *ep, int backlog, struct mw_err *err)
{
    struct addrinfo *res;
    int fd, on = 1;

    if (ep->is_unix)
        return mw_net_listen_unix(ep, backlog, err);
    if (mw_net_resolve(ep, 1, &res, err) < 0)
        return -1;
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        mw_err_set(err, "socket: %s", strerror(errno));
        freeaddrinfo(res);
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (res->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, backlog) < 0) {
        mw_err_set(err, "cannot listen on %s%s%s:%s: %s", res->ai_family == AF_INET6 ? "[" : "",
                   ep->host, res->ai_family == AF_INET6 ? "]" : "", ep->port, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

int
mw_net_connect(const struct mw_endpoint *ep, int timeout_ms, struct mw_err *err)
{
    struct addrinfo *res;
    struct pollfd pfd;
    int fd, soerr = 0;
    socklen_t slen = sizeof(soerr);

    if (ep->is_unix)
        return mw_err_set(err, "unix:%s: connect to Unix sockets is not supported here", ep->path);
    if (mw_net_resolve(ep, 0, &res, err) < 0)
        return -1;
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        freeaddrinfo(res);
        return mw_err_set(err, "socket: %s", strerror(errno));
    }
    if (connect(fd, res->ai_addr, res->ai_addrlen) < 0 && errno != EINPROGRESS)
        soerr = errno;
    freeaddrinfo(res);
    if (soerr == 0) {
        pfd.fd = fd;
        pfd.events = POLLOUT;
        if (poll(&pfd, 1, timeout_ms) != 1)
            soerr = ETIMEDOUT;
        else
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen);
    }
    if (soerr != 0) {
        close(fd);
        return mw_err_set(err, "connect %s:%s: %s", ep->host, ep->port, strerror(soerr));
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}
