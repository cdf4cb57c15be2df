/*
 * addr.c - IP addresses and CIDR lists (see mw/addr.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mw/addr.h"
#include "mw/alloc.h"
#include "mw/config.h"

int
mw_cidr_parse(const char *s, struct mw_cidr *out, struct mw_err *err)
{
    char host[64];
    const char *slash = strchr(s, '/');
    size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
    unsigned int maxbits;

    memset(out, 0, sizeof(*out));
    if (hlen == 0 || hlen >= sizeof(host))
        return mw_err_set(err, "\"%s\" is not an address or network", s);
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    if (inet_pton(AF_INET, host, out->addr) == 1) {
        out->family = AF_INET;
        maxbits = 32;
    } else if (inet_pton(AF_INET6, host, out->addr) == 1) {
        out->family = AF_INET6;
        maxbits = 128;
    } else {
        return mw_err_set(err, "\"%s\" is not an IPv4 or IPv6 address", host);
    }
    out->prefix = maxbits;
    if (slash != NULL) {
        char *end;
        long bits = strtol(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end != '\0' || bits < 0 || bits > (long)maxbits)
            return mw_err_set(err, "\"%s\": prefix length must be 0..%u", s, maxbits);
        out->prefix = (unsigned int)bits;
    }
    return 0;
}

int
mw_cidr_list_parse(const char *s, struct mw_cidr_list *out, struct mw_err *err)
{
    size_t n;
    char **v = mw_strv_split(s, &n);

    out->items = mw_calloc(n ? n : 1, sizeof(*out->items));
    out->n = n;
    for (size_t i = 0; i < n; i++) {
        if (mw_cidr_parse(v[i], &out->items[i], err) < 0) {
            mw_strv_free(&v);
            mw_cidr_list_release(out);
            return -1;
        }
    }
    mw_strv_free(&v);
    return 0;
}

int
mw_cidr_list_check(const char *s, struct mw_err *err)
{
    struct mw_cidr_list l;

    if (mw_cidr_list_parse(s, &l, err) < 0)
        return -1;
    mw_cidr_list_release(&l);
    return 0;
}

void
mw_cidr_list_release(struct mw_cidr_list *l)
{
    mw_free(&l->items);
    l->n = 0;
}

static int
mw_cidr_contains(const struct mw_cidr *c, const unsigned char *addr)
{
    unsigned int full = c->prefix / 8, rest = c->prefix % 8;

    if (memcmp(c->addr, addr, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    return ((c->addr[full] ^ addr[full]) & (0xff << (8 - rest))) == 0;
}

int
mw_cidr_list_match(const struct mw_cidr_list *l, const char *ip)
{
    unsigned char a4[4], a6[16];
    int is4 = inet_pton(AF_INET, ip, a4) == 1;
    int is6 = !is4 && inet_pton(AF_INET6, ip, a6) == 1;

    if (is6 && IN6_IS_ADDR_V4MAPPED((struct in6_addr *)a6)) {
        memcpy(a4, a6 + 12, 4);
        is4 = 1;
        is6 = 0;
    }
    for (size_t i = 0; i < l->n; i++) {
        const struct mw_cidr *c = &l->items[i];
        if ((is4 && c->family == AF_INET && mw_cidr_contains(c, a4)) ||
            (is6 && c->family == AF_INET6 && mw_cidr_contains(c, a6)))
            return 1;
    }
    return 0;
}
