/*
 * spf-report.c - Received-SPF, Authentication-Results property values and
 * reply text of the spf plugin (see spf-report.h).
 *
 * The Received-SPF value is built flat, one blank between its parts, and
 * then folded: a line break goes in front of a blank (never instead of
 * one), so unfolding (RFC 5322 §2.2.3: remove the line breaks) gives back
 * exactly the flat text, also where the break falls inside a comment or a
 * quoted-string, where a blank is content.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "mw/alloc.h"
#include "spf-report.h"

#define MW_SPF_FOLD 78
#define MW_SPF_HEADER_LEN 14 /* "Received-SPF: " */

static bool
mw_spf_atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* RFC 5322 dot-atom-text: atext runs joined by single dots. */
static bool
mw_spf_dot_atom(const char *s, size_t len)
{
    if (len == 0 || s[0] == '.' || s[len - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.' ? s[i + 1] == '.' : !mw_spf_atext((unsigned char)s[i]))
            return false;
    }
    return true;
}

/* Letters, digits and hyphens in non-empty dot-separated labels. */
static bool
mw_spf_ldh_name(const char *s)
{
    size_t label = 0;

    if (*s == '\0')
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-') {
            label++;
        } else {
            return false;
        }
    }
    return label > 0;
}

bool
mw_spf_domain_ok(const char *d)
{
    size_t len = strlen(d), label = 0, labels = 0;
    bool digits = true;

    if (len > 0 && d[len - 1] == '.')
        len--;
    if (len == 0 || len > 253)
        return false;
    for (size_t i = 0; i <= len; i++) {
        unsigned char c = i < len ? (unsigned char)d[i] : '.';
        if (c == '.') {
            if (label == 0 || label > 63)
                return false;
            labels++;
            label = 0;
            if (i < len)
                digits = true;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_') {
            label++;
            digits = false;
        } else if (c >= '0' && c <= '9') {
            label++;
        } else {
            return false;
        }
    }
    return labels >= 2 && !digits;
}

/*
 * Append s[0..] bounded by MW_SPF_SHOW_MAX, each byte through esc: the
 * bytes that need a quoted-pair are in special, control bytes become '?'.
 */
static void
mw_spf_escaped(struct mw_buf *b, const char *s, const char *special)
{
    size_t len = strlen(s), n = len;

    if (n > MW_SPF_SHOW_MAX) {
        n = MW_SPF_SHOW_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--; /* never cut a UTF-8 sequence */
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            mw_buf_putc(b, '?');
            continue;
        }
        if (strchr(special, c) != NULL)
            mw_buf_putc(b, '\\');
        mw_buf_putc(b, c);
    }
    if (n < len)
        mw_buf_puts(b, "...");
}

static void
mw_spf_quoted(struct mw_buf *b, const char *s)
{
    mw_buf_putc(b, '"');
    mw_spf_escaped(b, s, "\"\\");
    mw_buf_putc(b, '"');
}

void
mw_spf_pvalue(struct mw_buf *b, const char *s)
{
    const char *at = strrchr(s, '@');

    if (strlen(s) <= MW_SPF_SHOW_MAX &&
        (at == NULL ? mw_spf_ldh_name(s)
                    : mw_spf_dot_atom(s, (size_t)(at - s)) && mw_spf_ldh_name(at + 1)))
        mw_buf_puts(b, s);
    else
        mw_spf_quoted(b, s);
}

void
mw_spf_text(struct mw_buf *b, const char *s, size_t max)
{
    size_t len = strlen(s), n = len < max ? len : max;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        mw_buf_putc(b, c < 0x20 || c >= 0x7f ? '?' : c);
    }
    if (n < len)
        mw_buf_puts(b, "...");
}

/* " key=value;" with value bare when it is a dot-atom, else quoted. */
static void
mw_spf_kv(struct mw_buf *b, const char *key, const char *value, bool quote)
{
    mw_buf_printf(b, " %s=", key);
    if (!quote && strlen(value) <= MW_SPF_SHOW_MAX && mw_spf_dot_atom(value, strlen(value)))
        mw_buf_puts(b, value);
    else
        mw_spf_quoted(b, value);
    mw_buf_putc(b, ';');
}

/* The §9.1 comment: "RECEIVER: what the result says about SENDER and IP". */
static void
mw_spf_comment(struct mw_buf *b, const struct mw_spf_report *r)
{
    static const char *const say[] = {
        [MW_SPF_NONE] = "domain of %s does not designate permitted sender hosts",
        [MW_SPF_NEUTRAL] = "%s is neither permitted nor denied by domain of %s",
        [MW_SPF_PASS] = "domain of %s designates %s as permitted sender",
        [MW_SPF_FAIL] = "domain of %s does not designate %s as permitted sender",
        [MW_SPF_SOFTFAIL] = "domain of transitioning %s does not designate %s as permitted sender",
        [MW_SPF_TEMPERROR] = "error in processing during lookup of domain of %s",
        [MW_SPF_PERMERROR] = "permanent error in processing domain of %s",
    };
    const char *fmt = say[r->result];
    const char *first = r->result == MW_SPF_NEUTRAL ? r->client_ip : r->sender;
    const char *second = r->result == MW_SPF_NEUTRAL ? r->sender : r->client_ip;
    const char *p = strstr(fmt, "%s");
    const char *q = strstr(p + 2, "%s");

    mw_buf_puts(b, " (");
    mw_spf_escaped(b, r->receiver, "()\\");
    mw_buf_puts(b, ": ");
    mw_buf_append(b, fmt, (size_t)(p - fmt));
    mw_spf_escaped(b, first, "()\\");
    if (q != NULL) {
        mw_buf_append(b, p + 2, (size_t)(q - p - 2));
        mw_spf_escaped(b, second, "()\\");
        p = q;
    }
    mw_buf_puts(b, p + 2);
    mw_buf_putc(b, ')');
}

/* Break before a blank wherever the next word would pass MW_SPF_FOLD. */
static char *
mw_spf_fold(const char *flat)
{
    struct mw_buf b;
    size_t col = MW_SPF_HEADER_LEN;

    mw_buf_init(&b);
    for (const char *p = flat; *p;) {
        size_t word = strcspn(p + 1, " ") + 1;
        if (*p == ' ' && col > 1 && col + word > MW_SPF_FOLD) {
            mw_buf_putc(&b, '\n');
            col = 0;
        }
        mw_buf_append(&b, p, word);
        col += word;
        p += word;
    }
    return mw_buf_steal(&b);
}

char *
mw_spf_received(const struct mw_spf_report *r)
{
    struct mw_buf b;
    char *folded;

    mw_buf_init(&b);
    mw_buf_puts(&b, mw_spf_result_name(r->result));
    mw_spf_comment(&b, r);
    mw_spf_kv(&b, "client-ip", r->client_ip, false);
    mw_spf_kv(&b, "envelope-from", *r->envelope_from ? r->envelope_from : "<>", true);
    if (r->helo != NULL && *r->helo != '\0')
        mw_spf_kv(&b, "helo", r->helo, false);
    if (r->mechanism != NULL)
        mw_spf_kv(&b, "mechanism", r->mechanism, false);
    if (r->problem != NULL)
        mw_spf_kv(&b, "problem", r->problem, true);
    mw_spf_kv(&b, "receiver", r->receiver, false);
    mw_spf_kv(&b, "identity", r->identity, false);
    folded = mw_spf_fold(b.data);
    mw_buf_release(&b);
    return folded;
}
