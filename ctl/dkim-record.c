/*
 * dkim-record.c - the DKIM key record parser of "mailwardctl check"
 * (dkim-record.h).
 */
#include "config.h"

#include <string.h>

#include "dkim-record.h"
#include "mw/alloc.h"

static int
ck_wsp(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
ck_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Trim blanks around s[0..*len). */
static const char *
ck_trim(const char *s, size_t *len)
{
    while (*len > 0 && ck_wsp(s[0]))
        s++, (*len)--;
    while (*len > 0 && ck_wsp(s[*len - 1]))
        (*len)--;
    return s;
}

/* One tag: name (nlen) and value (vlen) into r; seen tracks v, k, p, t. */
static int
ck_dkim_tag(const char *name, size_t nlen, const char *val, size_t vlen, int first,
            struct ck_dkim_rec *r, struct mw_err *why)
{
    if (nlen == 1 && name[0] == 'v') {
        if (!first || vlen != 5 || memcmp(val, "DKIM1", 5) != 0)
            return mw_err_set(why, "v= must be the first tag and DKIM1");
    } else if (nlen == 1 && name[0] == 'k') {
        if (vlen == 0 || vlen >= sizeof(r->k))
            return mw_err_set(why, "bad k= value");
        memcpy(r->k, val, vlen);
        r->k[vlen] = '\0';
    } else if (nlen == 1 && name[0] == 'p') {
        size_t n = 0;
        r->p = mw_malloc(vlen + 1);
        for (size_t i = 0; i < vlen; i++) {
            char c = val[i];
            if (ck_wsp(c))
                continue;
            if (!ck_alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '/' && c != '=')
                return mw_err_set(why, "p= holds a character that is not base64");
            r->p[n++] = c;
        }
        r->p[n] = '\0';
    } else if (nlen == 1 && name[0] == 't') {
        for (size_t i = 0; i < vlen; i++)
            if (val[i] == 'y' && (i == 0 || val[i - 1] == ':' || ck_wsp(val[i - 1])) &&
                (i + 1 == vlen || val[i + 1] == ':' || ck_wsp(val[i + 1])))
                r->testing = 1;
    }
    return 0;
}

int
ck_dkim_rec_parse(const char *text, size_t len, struct ck_dkim_rec *r, struct mw_err *why)
{
    char seen[64][32];
    size_t nseen = 0, off = 0;

    memset(r, 0, sizeof(*r));
    strcpy(r->k, "rsa");
    if (len > CK_DKIM_REC_MAX || memchr(text, '\0', len) != NULL)
        return mw_err_set(why, "record too long or holds a NUL byte");
    while (off < len) {
        const char *spec = text + off, *eq, *name, *val;
        const char *semi = memchr(spec, ';', len - off);
        size_t slen = semi ? (size_t)(semi - spec) : len - off, nlen, vlen;

        off += slen + (semi != NULL);
        name = ck_trim(spec, &slen);
        if (slen == 0 && semi == NULL)
            break; /* after a final ";" */
        if ((eq = memchr(name, '=', slen)) == NULL)
            goto bad;
        nlen = (size_t)(eq - name);
        vlen = slen - nlen - 1;
        name = ck_trim(name, &nlen);
        val = ck_trim(eq + 1, &vlen);
        if (nlen == 0 || nlen >= sizeof(seen[0]) || !ck_alpha(name[0]))
            goto bad;
        for (size_t i = 1; i < nlen; i++)
            if (!ck_alpha(name[i]) && !(name[i] >= '0' && name[i] <= '9') && name[i] != '_')
                goto bad;
        for (size_t i = 0; i < nseen; i++)
            if (strlen(seen[i]) == nlen && memcmp(seen[i], name, nlen) == 0) {
                mw_err_set(why, "tag %.*s appears twice", (int)nlen, name);
                goto fail;
            }
        if (nseen == sizeof(seen) / sizeof(seen[0])) {
            mw_err_set(why, "too many tags");
            goto fail;
        }
        memcpy(seen[nseen], name, nlen);
        seen[nseen++][nlen] = '\0';
        if (ck_dkim_tag(name, nlen, val, vlen, nseen == 1, r, why) < 0)
            goto fail;
    }
    return 0;
bad:
    mw_err_set(why, "not a tag-list (\"name=value; ...\")");
fail:
    ck_dkim_rec_release(r);
    return -1;
}

void
ck_dkim_rec_release(struct ck_dkim_rec *r)
{
    mw_free(&r->p);
}
