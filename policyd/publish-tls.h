/*
 * publish-tls.h - the TLS side of the publishing listener: one server
 * SSL_CTX per certificate, and SNI choosing among them.
 *
 * SYNOPSIS
 *   mw_publish_tls_ctx(cert, key, err)        a hardened server SSL_CTX or NULL
 *   mw_publish_tls_covers(ctx, host)          does ctx's certificate cover host?
 *   mw_publish_tls_sni(ctx, pick, arg)        on ctx's handshakes, call
 *                                             pick(arg, servername) for the context
 *                                             to use instead (NULL: keep ctx)
 *
 * Every context: TLS 1.2 minimum, TLS 1.2 suites ECDHE with AES-GCM or
 * ChaCha20-Poly1305 only (TLS 1.3 suites are all forward-secret AEAD),
 * server preference, no renegotiation, no compression, no session tickets
 * (their key would outlive a certificate reload). The caller owns the
 * contexts (SSL_CTX_free); an SSL keeps a reference to its context, so
 * freeing a context after a reload does not disturb open connections.
 */
#ifndef MW_POLICYD_PUBLISH_TLS_H
#define MW_POLICYD_PUBLISH_TLS_H

#include <openssl/ssl.h>

#include "mw/err.h"

typedef SSL_CTX *mw_publish_tls_pick(void *arg, const char *servername);

SSL_CTX *mw_publish_tls_ctx(const char *cert, const char *key, struct mw_err *err);
int mw_publish_tls_covers(SSL_CTX *ctx, const char *host);
void mw_publish_tls_sni(SSL_CTX *ctx, mw_publish_tls_pick *pick, void *arg);

#endif
