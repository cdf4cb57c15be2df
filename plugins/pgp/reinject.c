/*
 * reinject.c - the clear copy for recipients without a key (see reinject.h).
 *
 * libcurl speaks SMTP; we only hand it the envelope and the bytes. A
 * failure of any recipient fails the whole copy, and the caller tempfails
 * the original message, so nobody's copy is lost.
 */
#include "config.h"

#include <string.h>

#include <curl/curl.h>

#include "mw/alloc.h"
#include "reinject.h"

struct mw_pgp_src {
    const char *data;
    size_t len, off;
};

int
mw_pgp_reinject_init(struct mw_err *err)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return mw_err_set(err, "curl_global_init failed");
    return 0;
}

void
mw_pgp_reinject_fini(void)
{
    curl_global_cleanup();
}

static size_t
mw_pgp_read(char *buf, size_t size, size_t nmemb, void *arg)
{
    struct mw_pgp_src *s = arg;
    size_t n = size * nmemb;

    if (n > s->len - s->off)
        n = s->len - s->off;
    memcpy(buf, s->data + s->off, n);
    s->off += n;
    return n;
}

int
mw_pgp_reinject(const char *url, const char *mail_from, const char *const *rcpts, size_t n,
                const char *msg, size_t len, struct mw_err *err)
{
    CURL *c = curl_easy_init();
    struct curl_slist *list = NULL;
    struct mw_pgp_src src = {msg, len, 0};
    char *from;
    CURLcode rc;
    size_t fl = strlen(mail_from);

    if (c == NULL)
        return mw_err_set(err, "curl_easy_init failed");
    from = mw_malloc(fl + 3);
    from[0] = '<';
    memcpy(from + 1, mail_from, fl);
    memcpy(from + 1 + fl, ">", 2);
    for (size_t i = 0; i < n; i++) {
        struct curl_slist *l = curl_slist_append(list, rcpts[i]);
        if (l == NULL)
            break;
        list = l;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, list);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, mw_pgp_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &src);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    rc = curl_easy_perform(c);
    curl_slist_free_all(list);
    curl_easy_cleanup(c);
    mw_free(&from);
    if (rc != CURLE_OK)
        return mw_err_set(err, "reinjection to %s failed: %s", url, curl_easy_strerror(rc));
    return 0;
}
