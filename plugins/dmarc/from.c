/*
 * from.c - the author domain(s) of a From header value (see from.h).
 *
 * A small lexer turns the value into tokens (atoms with their dots, quoted
 * strings, domain literals, the specials < > @ , : ;), dropping blanks,
 * line breaks and nested comments; a recursive-descent parser with one
 * token of lookahead reads address-list = address *("," address) on top of
 * it, empty list elements allowed (RFC 5322 §4.4). Every loop advances the
 * input or ends; nothing is copied except a domain, into a bounded buffer.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "dmarc/from.h"

enum mw_from_tok {
    MW_TOK_END,
    MW_TOK_ATOM,    /* atext and dots: "john.doe", "example.org", "=?utf-8?q?x?=" */
    MW_TOK_QUOTED,  /* "..." */
    MW_TOK_LITERAL, /* [...] */
    MW_TOK_SPECIAL, /* one of < > @ , : ; in c */
    MW_TOK_ERROR,   /* why says what */
};

struct mw_from_token {
    enum mw_from_tok type;
    const char *text; /* ATOM: its bytes (not NUL-terminated) */
    size_t len;
    int c; /* SPECIAL: the character */
};

struct mw_from_parser {
    const char *p, *end;
    struct mw_from_token look; /* the next token, already read */
    const char *why;           /* the first error */
    struct mw_dmarc_from *f;
};

static bool
mw_from_special(int c)
{
    return c == '<' || c == '>' || c == '@' || c == ',' || c == ':' || c == ';';
}

/* Bytes that end an atom besides the specials above. */
static bool
mw_from_delim(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '(' || c == ')' || c == '"' ||
           c == '[' || c == ']' || c == '\\';
}

/* Skip blanks, line breaks and (nested (comments)); NULL or an error text. */
static const char *
mw_from_skip_cfws(struct mw_from_parser *ps)
{
    size_t depth = 0;

    while (ps->p < ps->end) {
        int c = (unsigned char)*ps->p;

        if (depth > 0 && c == '\\') {
            if (ps->p + 1 >= ps->end)
                return "unterminated comment";
            ps->p += 2;
            continue;
        }
        if (c == '(')
            depth++;
        else if (c == ')' && depth > 0)
            depth--;
        else if (c == ')')
            return "unbalanced parenthesis";
        else if (c == '\0')
            return "NUL byte";
        else if (depth == 0 && c != ' ' && c != '\t' && c != '\r' && c != '\n')
            return NULL;
        ps->p++;
    }
    return depth > 0 ? "unterminated comment" : NULL;
}

/* A "..." or [...] token starting at ps->p; quoted pairs allowed in both. */
static void
mw_from_lex_delimited(struct mw_from_parser *ps, struct mw_from_token *t, int close)
{
    t->type = close == '"' ? MW_TOK_QUOTED : MW_TOK_LITERAL;
    for (ps->p++; ps->p < ps->end; ps->p++) {
        int c = (unsigned char)*ps->p;

        if (c == '\0') {
            t->type = MW_TOK_ERROR;
            ps->why = "NUL byte";
            return;
        }
        if (c == '\\' && ps->p + 1 < ps->end) {
            ps->p++;
            continue;
        }
        if (c == close) {
            ps->p++;
            return;
        }
        if (close == ']' && c == '[')
            break;
    }
    t->type = MW_TOK_ERROR;
    ps->why = close == '"' ? "unterminated quoted string" : "unterminated domain literal";
}

static void
mw_from_lex(struct mw_from_parser *ps, struct mw_from_token *t)
{
    const char *why = mw_from_skip_cfws(ps);
    int c;

    memset(t, 0, sizeof(*t));
    if (why != NULL) {
        t->type = MW_TOK_ERROR;
        ps->why = why;
        return;
    }
    if (ps->p >= ps->end) {
        t->type = MW_TOK_END;
        return;
    }
    c = (unsigned char)*ps->p;
    if (c == '"' || c == '[') {
        mw_from_lex_delimited(ps, t, c == '"' ? '"' : ']');
        return;
    }
    if (mw_from_special(c)) {
        t->type = MW_TOK_SPECIAL;
        t->c = c;
        ps->p++;
        return;
    }
    if (mw_from_delim(c) || c < 0x20 || c == 0x7f) {
        t->type = MW_TOK_ERROR;
        ps->why = c == ']' ? "unbalanced bracket" : "invalid character";
        return;
    }
    t->type = MW_TOK_ATOM;
    t->text = ps->p;
    while (ps->p < ps->end) {
        c = (unsigned char)*ps->p;
        if (mw_from_special(c) || mw_from_delim(c) || c < 0x20 || c == 0x7f)
            break;
        ps->p++;
    }
    t->len = (size_t)(ps->p - t->text);
}

/* Consume the lookahead, read the next one; returns the consumed token. */
static struct mw_from_token
mw_from_next(struct mw_from_parser *ps)
{
    struct mw_from_token t = ps->look;

    if (t.type != MW_TOK_ERROR && t.type != MW_TOK_END)
        mw_from_lex(ps, &ps->look);
    return t;
}

static bool
mw_from_is(const struct mw_from_parser *ps, int special)
{
    return ps->look.type == MW_TOK_SPECIAL && ps->look.c == special;
}

static int
mw_from_fail(struct mw_from_parser *ps, const char *why)
{
    if (ps->why == NULL)
        ps->why = why;
    return -1;
}

static bool
mw_from_word(const struct mw_from_token *t)
{
    return t->type == MW_TOK_ATOM || t->type == MW_TOK_QUOTED;
}

/*
 * Words of a phrase or local part. *dotted is set when each pair of words
 * is joined by a dot ("a.\"b\".c" is one local part; "Alice alice" is not).
 */
static size_t
mw_from_words(struct mw_from_parser *ps, bool *dotted)
{
    size_t n = 0;
    bool prev_dot = false;

    *dotted = true;
    while (mw_from_word(&ps->look)) {
        const struct mw_from_token t = mw_from_next(ps);
        bool lead = t.type == MW_TOK_ATOM && t.text[0] == '.';

        if (n > 0 && !prev_dot && !lead)
            *dotted = false;
        prev_dot = t.type == MW_TOK_ATOM && t.text[t.len - 1] == '.';
        n++;
    }
    return n;
}

/* The domain of an addr-spec: a lowercased host name, recorded in ps->f. */
static int
mw_from_domain(struct mw_from_parser *ps)
{
    struct mw_from_token t = mw_from_next(ps);
    char d[MW_DNS_NAME_MAX + 1];
    size_t label = 0;

    if (t.type == MW_TOK_LITERAL)
        return mw_from_fail(ps, "address literal instead of a domain");
    if (t.type != MW_TOK_ATOM)
        return mw_from_fail(ps, "missing domain");
    if (t.len > MW_DNS_NAME_MAX)
        return mw_from_fail(ps, "domain too long");
    for (size_t i = 0; i < t.len; i++) {
        unsigned char c = (unsigned char)t.text[i];

        if (c == '.') {
            if (label == 0)
                return mw_from_fail(ps, "empty label in domain");
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
            label++;
        } else if (c >= 'A' && c <= 'Z') {
            c = (unsigned char)(c - 'A' + 'a');
            label++;
        } else {
            return mw_from_fail(ps, c >= 0x80 ? "non-ASCII domain" : "invalid character in domain");
        }
        if (label > 63)
            return mw_from_fail(ps, "domain label too long");
        d[i] = (char)c;
    }
    if (label == 0)
        return mw_from_fail(ps, "empty label in domain");
    d[t.len] = '\0';
    if (ps->f->mailboxes++ == 0)
        memcpy(ps->f->domain, d, t.len + 1);
    else if (ps->f->other[0] == '\0' && strcmp(d, ps->f->domain) != 0)
        memcpy(ps->f->other, d, t.len + 1);
    return 0;
}

/* "<" [obs-route] addr-spec ">", the "<" already consumed. */
static int
mw_from_angle(struct mw_from_parser *ps)
{
    bool dotted;

    if (mw_from_is(ps, '@')) {
        /* obs-route: "@a.example,@b.example:" before the address; skipped. */
        while (!mw_from_is(ps, ':')) {
            if (!mw_from_is(ps, '@') && !mw_from_is(ps, ',') && ps->look.type != MW_TOK_ATOM)
                return mw_from_fail(ps, "malformed route");
            mw_from_next(ps);
        }
        mw_from_next(ps);
    }
    if (mw_from_is(ps, '>'))
        return mw_from_fail(ps, "empty address");
    if (mw_from_words(ps, &dotted) == 0 || !dotted)
        return mw_from_fail(ps, "malformed local part");
    if (!mw_from_is(ps, '@'))
        return mw_from_fail(ps, "address without @");
    mw_from_next(ps);
    if (mw_from_domain(ps) < 0)
        return -1;
    if (!mw_from_is(ps, '>'))
        return mw_from_fail(ps, "missing >");
    mw_from_next(ps);
    return 0;
}

static int mw_from_address(struct mw_from_parser *ps, bool in_group);

/* The members of a group up to its ";", the ":" already consumed. */
static int
mw_from_group(struct mw_from_parser *ps)
{
    for (;;) {
        if (mw_from_is(ps, ';')) {
            mw_from_next(ps);
            return 0;
        }
        if (mw_from_is(ps, ',')) {
            mw_from_next(ps);
            continue;
        }
        if (ps->look.type == MW_TOK_END)
            return mw_from_fail(ps, "unterminated group");
        if (mw_from_address(ps, true) < 0)
            return -1;
        if (ps->look.type == MW_TOK_END)
            return mw_from_fail(ps, "unterminated group");
        if (!mw_from_is(ps, ',') && !mw_from_is(ps, ';'))
            return mw_from_fail(ps, "text after an address");
    }
}

/* mailbox / group: a phrase decides by what follows it. */
static int
mw_from_address(struct mw_from_parser *ps, bool in_group)
{
    bool dotted;
    size_t words = mw_from_words(ps, &dotted);

    if (ps->look.type == MW_TOK_ERROR)
        return -1;
    if (mw_from_is(ps, '<')) {
        mw_from_next(ps);
        return mw_from_angle(ps);
    }
    if (mw_from_is(ps, ':')) {
        if (in_group)
            return mw_from_fail(ps, "group inside a group");
        if (words == 0)
            return mw_from_fail(ps, "group without a name");
        mw_from_next(ps);
        return mw_from_group(ps);
    }
    if (mw_from_is(ps, '@')) {
        if (words == 0 || !dotted)
            return mw_from_fail(ps, "malformed local part");
        mw_from_next(ps);
        return mw_from_domain(ps);
    }
    return mw_from_fail(ps, ps->look.type == MW_TOK_LITERAL ? "unexpected domain literal"
                                                            : "no address");
}

int
mw_dmarc_from_parse(const char *value, size_t len, struct mw_dmarc_from *f, struct mw_err *err)
{
    struct mw_from_parser ps = {.p = value, .end = value + len, .f = f};

    memset(f, 0, sizeof(*f));
    mw_from_lex(&ps, &ps.look);
    for (;;) {
        if (ps.look.type == MW_TOK_END)
            return 0;
        if (mw_from_is(&ps, ',')) {
            mw_from_next(&ps);
            continue;
        }
        if (mw_from_address(&ps, false) < 0)
            break;
        if (ps.look.type == MW_TOK_END)
            return 0;
        if (!mw_from_is(&ps, ',')) {
            mw_from_fail(&ps, "text after an address");
            break;
        }
    }
    return mw_err_set(err, "From header: %s", ps.why != NULL ? ps.why : "malformed");
}
