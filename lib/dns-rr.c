/*
 * dns-rr.c - pure DNS helpers: name checks and record decoders (mw/dns.h).
 *
 * mw_dns_name_check() vets a name before it reaches libunbound;
 * mw_dns_name_decode(), mw_dns_txt_decode(), mw_dns_mx_decode(),
 * mw_dns_addr_decode() and mw_dns_tlsa_decode() turn one record's rdata
 * into a struct or fail. Rdata comes from the network: every length byte is
 * checked against what is left before it is used, and a record with bytes
 * left over after its last field is malformed, not silently accepted.
 *
 * No state, no allocation except growing the caller's mw_buf: thread-safe
 * and fuzzable as they stand.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mw/dns.h"

/* Largest name in wire format (RFC 1035 2.3.4). */
#define MW_DNS_WIRE_MAX 255
#define MW_DNS_LABEL_MAX 63

const char *
mw_dns_status_name(enum mw_dns_status s)
{
    switch (s) {
    case MW_DNS_OK:
        return "OK";
    case MW_DNS_NXDOMAIN:
        return "NXDOMAIN";
    case MW_DNS_NODATA:
        return "NODATA";
    case MW_DNS_TEMPFAIL:
        return "TEMPFAIL";
    case MW_DNS_TIMEOUT:
        return "TIMEOUT";
    }
    return "?";
}

const char *
mw_dns_dnssec_name(enum mw_dnssec s)
{
    switch (s) {
    case MW_DNSSEC_INSECURE:
        return "insecure";
    case MW_DNSSEC_SECURE:
        return "secure";
    case MW_DNSSEC_BOGUS:
        return "bogus";
    }
    return "?";
}

int
mw_dns_name_check(const char *name, struct mw_err *err)
{
    size_t len = strlen(name);
    size_t label = 0;

    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0)
        return mw_err_set(err, "empty DNS name");
    if (len > MW_DNS_NAME_MAX)
        return mw_err_set(err, "DNS name longer than %d bytes", MW_DNS_NAME_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];

        if (c == '.') {
            if (label == 0)
                return mw_err_set(err, "empty label in DNS name \"%.*s\"", (int)len, name);
            label = 0;
            continue;
        }
        if (c <= ' ' || c >= 0x7f || c == '\\')
            return mw_err_set(err, "bad byte 0x%02x in DNS name", c);
        if (++label > MW_DNS_LABEL_MAX)
            return mw_err_set(err, "label longer than %d bytes in DNS name", MW_DNS_LABEL_MAX);
    }
    return 0;
}

/* Letters, digits and the few punctuation marks that names really use. */
static int
mw_dns_name_plain(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '*';
}

int
mw_dns_name_decode(const unsigned char *rd, size_t len, size_t *off, char out[MW_DNS_NAME_TEXT],
                   struct mw_err *err)
{
    size_t pos = *off, wire = 0, o = 0;

    for (;;) {
        unsigned int n;

        if (pos >= len)
            return mw_err_set(err, "DNS name runs past the end of the record");
        n = rd[pos++];
        if (n > MW_DNS_LABEL_MAX)
            return mw_err_set(err, "DNS name with a compression pointer or bad label length");
        wire += n + 1;
        if (wire > MW_DNS_WIRE_MAX)
            return mw_err_set(err, "DNS name longer than %d bytes", MW_DNS_WIRE_MAX);
        if (n == 0)
            break;
        if (n > len - pos)
            return mw_err_set(err, "DNS label runs past the end of the record");
        if (o > 0)
            out[o++] = '.';
        for (unsigned int i = 0; i < n; i++) {
            unsigned char c = rd[pos++];

            /* 255 wire bytes give at most 4 * 254 text bytes: no overflow. */
            if (mw_dns_name_plain(c))
                out[o++] = (char)c;
            else
                o += (size_t)snprintf(out + o, MW_DNS_NAME_TEXT - o, "\\%03u", c);
        }
    }
    if (o == 0)
        out[o++] = '.';
    out[o] = '\0';
    *off = pos;
    return 0;
}

int
mw_dns_txt_decode(const unsigned char *rd, size_t len, struct mw_buf *out, struct mw_err *err)
{
    size_t pos = 0;

    if (len == 0)
        return mw_err_set(err, "empty TXT record");
    while (pos < len) {
        size_t n = rd[pos++];

        if (n > len - pos)
            return mw_err_set(err, "TXT string runs past the end of the record");
        mw_buf_append(out, rd + pos, n);
        pos += n;
    }
    return 0;
}

int
mw_dns_mx_decode(const unsigned char *rd, size_t len, struct mw_dns_mx *mx, struct mw_err *err)
{
    size_t off = 2;

    if (len < 3)
        return mw_err_set(err, "MX record of %zu bytes", len);
    mx->preference = (unsigned int)rd[0] << 8 | rd[1];
    if (mw_dns_name_decode(rd, len, &off, mx->exchange, err) < 0)
        return -1;
    if (off != len)
        return mw_err_set(err, "MX record with %zu bytes after the exchange", len - off);
    return 0;
}

int
mw_dns_addr_decode(int rrtype, const unsigned char *rd, size_t len, char out[MW_DNS_ADDR_TEXT],
                   struct mw_err *err)
{
    int af;
    size_t want;

    if (rrtype == MW_DNS_A) {
        af = AF_INET;
        want = 4;
    } else if (rrtype == MW_DNS_AAAA) {
        af = AF_INET6;
        want = 16;
    } else {
        return mw_err_set(err, "record type %d is not an address", rrtype);
    }
    if (len != want)
        return mw_err_set(err, "%s record of %zu bytes", af == AF_INET ? "A" : "AAAA", len);
    if (inet_ntop(af, rd, out, MW_DNS_ADDR_TEXT) == NULL)
        return mw_err_set(err, "inet_ntop: %s", strerror(errno));
    return 0;
}

int
mw_dns_tlsa_decode(const unsigned char *rd, size_t len, struct mw_dns_tlsa *t, struct mw_err *err)
{
    /* Empty association data matches nothing: reject it rather than guess. */
    if (len < 4)
        return mw_err_set(err, "TLSA record of %zu bytes", len);
    t->usage = rd[0];
    t->selector = rd[1];
    t->matching_type = rd[2];
    t->data = rd + 3;
    t->data_len = len - 3;
    return 0;
}
