/*
 * publish-tls.c - server TLS contexts of the publishing listener (see
 * publish-tls.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "publish-tls.h"

#define MW_PUBLISH_TLS12_CIPHERS                                                                   \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                                   \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                                   \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

struct mw_publish_sni {
    mw_publish_tls_pick *pick;
    void *arg;
};

/* The first OpenSSL error as text, the queue cleared. */
static const char *
mw_publish_tls_error(char *buf, size_t len)
{
    unsigned long e = ERR_get_error();

    if (e == 0)
        snprintf(buf, len, "unknown OpenSSL error");
    else
        ERR_error_string_n(e, buf, len);
    ERR_clear_error();
    return buf;
}

SSL_CTX *
mw_publish_tls_ctx(const char *cert, const char *key, struct mw_err *err)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    char why[256];

    if (ctx == NULL) {
        mw_err_set(err, "SSL_CTX_new: %s", mw_publish_tls_error(why, sizeof(why)));
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (SSL_CTX_set_cipher_list(ctx, MW_PUBLISH_TLS12_CIPHERS) != 1)
        mw_err_set(err, "cipher list: %s", mw_publish_tls_error(why, sizeof(why)));
    else if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
        mw_err_set(err, "%s: %s", cert, mw_publish_tls_error(why, sizeof(why)));
    else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
        mw_err_set(err, "%s: %s", key, mw_publish_tls_error(why, sizeof(why)));
    else if (SSL_CTX_check_private_key(ctx) != 1)
        mw_err_set(err, "%s does not match %s", key, cert);
    else
        return ctx;
    SSL_CTX_free(ctx);
    return NULL;
}

int
mw_publish_tls_covers(SSL_CTX *ctx, const char *host)
{
    X509 *x = SSL_CTX_get0_certificate(ctx);

    return x != NULL && X509_check_host(x, host, 0, 0, NULL) == 1;
}

static int
mw_publish_tls_sni_cb(SSL *ssl, int *alert, void *arg)
{
    struct mw_publish_sni *sni = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    SSL_CTX *ctx;

    (void)alert;
    if (name == NULL || (ctx = sni->pick(sni->arg, name)) == NULL)
        return SSL_TLSEXT_ERR_OK;
    if (ctx != SSL_get_SSL_CTX(ssl))
        SSL_set_SSL_CTX(ssl, ctx);
    return SSL_TLSEXT_ERR_OK;
}

static void
mw_publish_tls_sni_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    OPENSSL_free(ptr);
}

void
mw_publish_tls_sni(SSL_CTX *ctx, mw_publish_tls_pick *pick, void *arg)
{
    static int idx = -1;
    struct mw_publish_sni *sni = OPENSSL_malloc(sizeof(*sni));

    if (idx < 0)
        idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, mw_publish_tls_sni_free);
    if (sni == NULL || idx < 0)
        abort();
    sni->pick = pick;
    sni->arg = arg;
    SSL_CTX_set_ex_data(ctx, idx, sni);
    SSL_CTX_set_tlsext_servername_callback(ctx, mw_publish_tls_sni_cb);
    SSL_CTX_set_tlsext_servername_arg(ctx, sni);
}
