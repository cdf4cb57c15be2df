/*
 * mw/addr.h - IP addresses and CIDR lists ("127.0.0.1/32 ::1/128 10.0.0.0/8").
 *
 * Used for [milter] internal_hosts. Pure functions; thread-safe.
 */
#ifndef MW_ADDR_H
#define MW_ADDR_H

#include <stddef.h>

#include "mw/err.h"

struct mw_cidr {
    int family;              /* AF_INET or AF_INET6 */
    unsigned char addr[16];  /* network byte order */
    unsigned int prefix;     /* bits */
};

struct mw_cidr_list {
    struct mw_cidr *items;
    size_t n;
};

/* Parse one "ADDR[/BITS]" (no bits = host route). */
int mw_cidr_parse(const char *s, struct mw_cidr *out, struct mw_err *err);
/* Parse a blank/comma separated list; on error nothing is allocated. */
int mw_cidr_list_parse(const char *s, struct mw_cidr_list *out, struct mw_err *err);
/* Configuration check wrapper. */
int mw_cidr_list_check(const char *s, struct mw_err *err);
void mw_cidr_list_release(struct mw_cidr_list *l);
/* Is the textual address ip inside any entry? (IPv4-mapped IPv6 counts as IPv4.) */
int mw_cidr_list_match(const struct mw_cidr_list *l, const char *ip);

#endif
