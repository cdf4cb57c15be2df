/*
 * tlsa.h - DANE TLSA records of a certificate (RFC 6698, RFC 7671) and the
 * certificate an SMTP server presents after STARTTLS.
 *
 * SYNOPSIS
 *   mw_tlsa_cert_file(path, &x, err)       the first certificate of a PEM file
 *   mw_tlsa_smtp_cert(addr, port, sni, timeout_ms, &x, err)
 *                                          EHLO, STARTTLS, handshake: the
 *                                          server's certificate (not verified:
 *                                          DANE-EE needs no PKIX)
 *   mw_tlsa_data(x, selector, mtype, out, &len)   the association data of x
 *   mw_tlsa_hex(x, hex)                     "3 1 1" data as 64 hex digits
 *
 * Every SMTP reply line is bounded (MW_TLSA_SMTP_LINE) and every read and
 * write has the timeout; a server that does not offer STARTTLS is an error.
 * The caller owns *x (X509_free).
 */
#ifndef MW_CTL_TLSA_H
#define MW_CTL_TLSA_H

#include <openssl/x509.h>

#include "mw/err.h"

#define MW_TLSA_SMTP_LINE 1024
#define MW_TLSA_SMTP_LINES 100

int mw_tlsa_cert_file(const char *path, X509 **x, struct mw_err *err);
int mw_tlsa_smtp_cert(const char *addr, const char *port, const char *sni, int timeout_ms, X509 **x,
                      struct mw_err *err);
/* selector 0 (certificate) or 1 (SPKI), mtype 0, 1 (SHA-256) or 2 (SHA-512); -1 on error. */
int mw_tlsa_data(X509 *x, unsigned int selector, unsigned int mtype, unsigned char **out,
                 size_t *len);
void mw_tlsa_hex(X509 *x, char hex[65]);

#endif
