/*
 * ar.c - reading the authserv-id of an Authentication-Results header
 * (see ar.h).
 *
 * The parser walks the bytes once with an explicit end pointer; it never
 * reads past len and fails closed on an unterminated comment or quoted
 * string. Comments nest (RFC 5322 section 3.2.2); their depth is bounded
 * so a hostile header cannot make us count forever. Bytes of 0x80 and
 * above are accepted in a token so that an internationalised host name
 * compares as the bytes it is.
 */
#include "config.h"

#include <string.h>

#include "ar.h"

#define MW_AR_MAX_COMMENT_DEPTH 64

/* RFC 2045 tspecials: the bytes that end a token. */
static int
mw_ar_tspecial(unsigned char c)
{
    return c != '\0' && strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

static int
mw_ar_token_char(unsigned char c)
{
    return c > 0x20 && c != 0x7f && !mw_ar_tspecial(c);
}

static int
mw_ar_wsp(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skip folding white space and comments; NULL on an unterminated comment. */
static const char *
mw_ar_skip_cfws(const char *p, const char *end, struct mw_err *err)
{
    while (p < end) {
        if (mw_ar_wsp((unsigned char)*p)) {
            p++;
            continue;
        }
        if (*p != '(')
            break;
        int depth = 0;
        do {
            if (*p == '\\') {
                if (++p == end)
                    break;
            } else if (*p == '(') {
                if (++depth > MW_AR_MAX_COMMENT_DEPTH) {
                    mw_err_set(err, "comments nested deeper than %d", MW_AR_MAX_COMMENT_DEPTH);
                    return NULL;
                }
            } else if (*p == ')') {
                depth--;
            }
            p++;
        } while (p < end && depth > 0);
        if (depth > 0) {
            mw_err_set(err, "unterminated comment");
            return NULL;
        }
    }
    return p;
}

/* A quoted-string starting at p (on the opening quote); NULL if unterminated. */
static const char *
mw_ar_quoted(const char *p, const char *end, struct mw_buf *id, struct mw_err *err)
{
    for (p++; p < end; p++) {
        if (*p == '"')
            return p + 1;
        if (*p == '\\' && ++p == end)
            break;
        mw_buf_putc(id, (unsigned char)*p);
    }
    mw_err_set(err, "unterminated quoted string");
    return NULL;
}

int
mw_ar_authserv_id(const char *value, size_t len, struct mw_buf *id, struct mw_err *err)
{
    const char *end = value + len;
    const char *p;

    mw_buf_reset(id);
    if ((p = mw_ar_skip_cfws(value, end, err)) == NULL)
        return -1;
    if (p == end)
        return mw_err_set(err, "no authserv-id");
    if (*p == '"') {
        if ((p = mw_ar_quoted(p, end, id, err)) == NULL)
            return -1;
    } else {
        const char *start = p;
        while (p < end && mw_ar_token_char((unsigned char)*p))
            p++;
        mw_buf_append(id, start, (size_t)(p - start));
    }
    if (id->len == 0)
        return mw_err_set(err, "empty authserv-id");
    if (memchr(id->data, '\0', id->len) != NULL)
        return mw_err_set(err, "NUL byte in authserv-id");
    /* What follows must be CFWS, the ";" or the end: "a.example/x" is not an id. */
    if (p < end && !mw_ar_wsp((unsigned char)*p) && *p != '(' && *p != ';')
        return mw_err_set(err, "unexpected '%c' after authserv-id", *p);
    return 0;
}
