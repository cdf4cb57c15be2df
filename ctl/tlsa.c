/*
 * tlsa.c - TLSA association data of certificates, and an SMTP server's
 * certificate fetched with STARTTLS (see tlsa.h).
 *
 * The SMTP side is the least a client can say: read the greeting, EHLO,
 * STARTTLS, handshake, QUIT. It talks byte by byte until the handshake so
 * that no TLS byte is ever read as SMTP.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "mw/alloc.h"
#include "mw/net.h"
#include "tlsa.h"

int
mw_tlsa_cert_file(const char *path, X509 **x, struct mw_err *err)
{
    FILE *fp = fopen(path, "r");

    if (fp == NULL)
        return mw_err_set(err, "%s: %s", path, strerror(errno));
    *x = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    ERR_clear_error();
    if (*x == NULL)
        return mw_err_set(err, "%s: no PEM certificate in it", path);
    return 0;
}

int
mw_tlsa_data(X509 *x, unsigned int selector, unsigned int mtype, unsigned char **out, size_t *len)
{
    unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int n;

    if (selector == 0)
        n = i2d_X509(x, &der);
    else if (selector == 1)
        n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    else
        return -1;
    if (n <= 0)
        return -1;
    if (mtype == 0) {
        *out = mw_malloc((size_t)n);
        memcpy(*out, der, (size_t)n);
        *len = (size_t)n;
    } else if (mtype == 1 || mtype == 2) {
        EVP_Digest(der, (size_t)n, md, &mdlen, mtype == 1 ? EVP_sha256() : EVP_sha512(), NULL);
        *out = mw_malloc(mdlen);
        memcpy(*out, md, mdlen);
        *len = mdlen;
    } else {
        OPENSSL_free(der);
        return -1;
    }
    OPENSSL_free(der);
    return 0;
}

void
mw_tlsa_hex(X509 *x, char hex[65])
{
    unsigned char *d = NULL;
    size_t len = 0;

    hex[0] = '\0';
    if (mw_tlsa_data(x, 1, 1, &d, &len) < 0)
        return;
    for (size_t i = 0; i < len && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    mw_free(&d);
}

/* One reply (all its lines); its code, or -1 with err set. *has_starttls if a line says so. */
static int
mw_tlsa_reply(int fd, int *has_starttls, struct mw_err *err)
{
    char line[MW_TLSA_SMTP_LINE];

    for (int lines = 0; lines < MW_TLSA_SMTP_LINES; lines++) {
        size_t n = 0;
        char c = 0;

        while (c != '\n') {
            ssize_t r = recv(fd, &c, 1, 0);
            if (r <= 0)
                return mw_err_set(err, "SMTP: %s", r == 0 ? "connection closed" : strerror(errno));
            if (n + 1 >= sizeof(line))
                return mw_err_set(err, "SMTP: reply line longer than %d bytes", MW_TLSA_SMTP_LINE);
            line[n++] = c;
        }
        line[n] = '\0';
        if (n < 5 || line[0] < '1' || line[0] > '5' ||
            (line[3] != ' ' && line[3] != '-' && line[3] != '\r'))
            return mw_err_set(err, "SMTP: malformed reply \"%.60s\"", line);
        if (has_starttls != NULL && strncasecmp(line + 4, "STARTTLS", 8) == 0 &&
            (line[12] == '\r' || line[12] == '\n' || line[12] == ' '))
            *has_starttls = 1;
        if (line[3] != '-')
            return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    }
    return mw_err_set(err, "SMTP: more than %d reply lines", MW_TLSA_SMTP_LINES);
}

static int
mw_tlsa_send(int fd, const char *cmd, struct mw_err *err)
{
    size_t len = strlen(cmd);

    if (send(fd, cmd, len, MSG_NOSIGNAL) != (ssize_t)len)
        return mw_err_set(err, "SMTP: cannot send: %s", strerror(errno));
    return 0;
}

/* Greeting, EHLO, STARTTLS: 0 when the server is ready for the handshake. */
static int
mw_tlsa_starttls(int fd, struct mw_err *err)
{
    int code, tls = 0;

    if ((code = mw_tlsa_reply(fd, NULL, err)) < 0)
        return -1;
    if (code != 220)
        return mw_err_set(err, "SMTP: greeting %d", code);
    if (mw_tlsa_send(fd, "EHLO mailwardctl.invalid\r\n", err) < 0 ||
        (code = mw_tlsa_reply(fd, &tls, err)) < 0)
        return -1;
    if (code != 250)
        return mw_err_set(err, "SMTP: EHLO answered %d", code);
    if (!tls)
        return mw_err_set(err, "SMTP: the server does not offer STARTTLS");
    if (mw_tlsa_send(fd, "STARTTLS\r\n", err) < 0 || (code = mw_tlsa_reply(fd, NULL, err)) < 0)
        return -1;
    if (code != 220)
        return mw_err_set(err, "SMTP: STARTTLS answered %d", code);
    return 0;
}

/* The TLS handshake on fd and the peer's certificate. */
static int
mw_tlsa_handshake(int fd, const char *sni, X509 **x, struct mw_err *err)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    unsigned char a[16];
    int rc = -1;

    if (ssl == NULL) {
        mw_err_set(err, "cannot create a TLS client");
    } else {
        SSL_set_fd(ssl, fd);
        if (sni != NULL && inet_pton(AF_INET, sni, a) != 1 && inet_pton(AF_INET6, sni, a) != 1)
            SSL_set_tlsext_host_name(ssl, sni);
        if (SSL_connect(ssl) != 1)
            mw_err_set(err, "TLS handshake failed: %s", ERR_reason_error_string(ERR_peek_error()));
        else if ((*x = SSL_get1_peer_certificate(ssl)) == NULL)
            mw_err_set(err, "the server sent no certificate");
        else
            rc = 0;
        if (rc == 0 && SSL_write(ssl, "QUIT\r\n", 6) == 6)
            SSL_shutdown(ssl);
    }
    ERR_clear_error();
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return rc;
}

int
mw_tlsa_smtp_cert(const char *addr, const char *port, const char *sni, int timeout_ms, X509 **x,
                  struct mw_err *err)
{
    struct mw_endpoint ep;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    int fd, rc;

    memset(&ep, 0, sizeof(ep));
    if (strlen(addr) >= sizeof(ep.host) || strlen(port) >= sizeof(ep.port))
        return mw_err_set(err, "%.60s: name too long", addr);
    strcpy(ep.host, addr);
    strcpy(ep.port, port);
    if ((fd = mw_net_connect(&ep, timeout_ms, err)) < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    rc = mw_tlsa_starttls(fd, err);
    if (rc == 0)
        rc = mw_tlsa_handshake(fd, sni, x, err);
    close(fd);
    return rc;
}
