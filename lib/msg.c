/*
 * msg.c - the SMTP connection and message model plugins see (mw/msg.h) and
 * the host's side of it (mw/msg-host.h).
 *
 * Per-message state is carved from one arena: a chain of blocks that only
 * grows while the message lasts and is released in one call by
 * mw_msg_reset(). Nothing of a message is freed piecemeal, so a plugin or
 * host path that forgets a string cannot leak it past the message.
 * Connection data (client, HELO, connection macros) is allocated normally
 * and lives until mw_msg_free().
 *
 * Lists (changes, entries, log items, message macros) are singly linked
 * with a tail pointer so that appending is O(1) and order is kept.
 *
 * Not thread-safe: one connection, one thread.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mw/alloc.h"
#include "mw/log.h"
#include "mw/msg-host.h"

#define MW_ARENA_BLOCK 4096
#define MW_MSG_HEADERS_MAX (4 * 1024 * 1024) /* header bytes kept for mw_msg_final_header() */
#define MW_ARENA_ALIGN (sizeof(max_align_t))

struct mw_arena_block {
    struct mw_arena_block *next;
    size_t size, used;
    max_align_t data[]; /* aligned start */
};

struct mw_arena {
    struct mw_arena_block *head;
};

struct mw_macro {
    char *name, *value;
    struct mw_macro *next;
};

struct mw_auth_node {
    struct mw_auth_result r;
    struct mw_auth_node *next;
};

/* One header field; hidden: the MTA's own Received field, which milters never see. */
struct mw_msg_hdr {
    const char *name, *value;
    int hidden;
};

struct mw_msg {
    /* connection */
    char *client_name, *client_addr, *helo;
    struct mw_macro *conn_macros; /* mw_malloc'ed */
    size_t nplugins, cur_plugin;
    void **slots;

    /* message: everything below points into the arena */
    struct mw_arena arena;
    int in_message;
    enum mw_direction direction;
    const char *auth_user;
    const char *mail_from;
    const char **rcpts;
    size_t nrcpt, rcpt_cap;
    struct mw_macro *msg_macros;
    struct mw_msg_change *changes, *changes_tail;
    struct mw_msg_item *ar, *ar_tail;
    struct mw_msg_item *log, *log_tail;
    const char *rcode, *xcode, *reply;
    struct mw_auth_node *auth, *auth_tail;
    size_t nauth;
    const char *quarantine;
    struct mw_spool body; /* replacement body, when has_body */
    int has_body;
    struct mw_msg_hdr *hdrs;         /* header fields as received, in order */
    size_t nhdr, hdr_cap, hdr_bytes; /* hdr_bytes > MW_MSG_HEADERS_MAX: none kept */
    struct mw_msg_hdr *final;        /* hdrs with the changes applied; NULL: to build */
    size_t nfinal;
};

/* Arena */

static void *
mw_arena_alloc(struct mw_arena *a, size_t size)
{
    struct mw_arena_block *b = a->head;
    size_t need;
    void *p;

    if (size > SIZE_MAX - MW_ARENA_ALIGN)
        mw_log_panic("arena: allocation of %zu bytes overflows", size);
    need = (size + MW_ARENA_ALIGN - 1) / MW_ARENA_ALIGN * MW_ARENA_ALIGN;
    if (b == NULL || b->size - b->used < need) {
        size_t bsize = need > MW_ARENA_BLOCK ? need : MW_ARENA_BLOCK;
        b = mw_malloc(sizeof(*b) + bsize);
        b->size = bsize;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    p = (char *)b->data + b->used;
    b->used += need;
    memset(p, 0, size);
    return p;
}

static char *
mw_arena_strdup(struct mw_arena *a, const char *s)
{
    size_t len = strlen(s);
    char *p = mw_arena_alloc(a, len + 1);

    memcpy(p, s, len + 1);
    return p;
}

static char *
mw_arena_vprintf(struct mw_arena *a, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;
    char *p;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        mw_log_panic("msg: cannot format \"%s\"", fmt);
    p = mw_arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

static void
mw_arena_release(struct mw_arena *a)
{
    while (a->head != NULL) {
        struct mw_arena_block *b = a->head;
        a->head = b->next;
        mw_free(&b);
    }
}

/* Connection object */

struct mw_msg *
mw_msg_create(size_t nplugins)
{
    struct mw_msg *m = mw_calloc(1, sizeof(*m));

    m->client_name = mw_strdup("");
    m->client_addr = mw_strdup("");
    m->nplugins = nplugins;
    m->slots = mw_calloc(nplugins ? nplugins : 1, sizeof(*m->slots));
    return m;
}

void
mw_msg_reset(struct mw_msg *m)
{
    for (size_t i = 0; i < m->nplugins; i++)
        if (m->slots[i] != NULL) {
            /* A plugin's done hook did not free its data: a plugin bug, not ours to free. */
            mw_log_warn("msg: plugin #%zu left per-message data behind", i);
            m->slots[i] = NULL;
        }
    mw_arena_release(&m->arena);
    m->in_message = 0;
    m->auth_user = NULL;
    m->mail_from = NULL;
    m->rcpts = NULL;
    m->nrcpt = m->rcpt_cap = 0;
    m->msg_macros = NULL;
    m->changes = m->changes_tail = NULL;
    m->ar = m->ar_tail = NULL;
    m->log = m->log_tail = NULL;
    m->rcode = m->xcode = m->reply = NULL;
    m->auth = m->auth_tail = NULL;
    m->nauth = 0;
    m->quarantine = NULL;
    if (m->has_body)
        mw_spool_release(&m->body);
    m->has_body = 0;
    m->hdrs = m->final = NULL;
    m->nhdr = m->hdr_cap = m->nfinal = m->hdr_bytes = 0;
}

void
mw_msg_free(struct mw_msg **mp)
{
    struct mw_msg *m = *mp;

    if (m == NULL)
        return;
    mw_msg_reset(m);
    while (m->conn_macros != NULL) {
        struct mw_macro *x = m->conn_macros;
        m->conn_macros = x->next;
        mw_free(&x->name);
        mw_free(&x->value);
        mw_free(&x);
    }
    mw_free(&m->client_name);
    mw_free(&m->client_addr);
    mw_free(&m->helo);
    mw_free(&m->slots);
    mw_free(mp);
}

/* Host setters */

void
mw_msg_set_client(struct mw_msg *m, const char *name, const char *addr)
{
    mw_free(&m->client_name);
    mw_free(&m->client_addr);
    m->client_name = mw_strdup(name ? name : "");
    m->client_addr = mw_strdup(addr ? addr : "");
}

void
mw_msg_set_helo(struct mw_msg *m, const char *helo)
{
    mw_free(&m->helo);
    m->helo = mw_strdup(helo);
}

static struct mw_macro *
mw_macro_find(struct mw_macro *list, const char *name)
{
    for (; list != NULL; list = list->next)
        if (strcmp(list->name, name) == 0)
            return list;
    return NULL;
}

void
mw_msg_set_macro(struct mw_msg *m, const char *name, const char *value, int message_scope)
{
    struct mw_macro *x;

    if (message_scope) {
        if ((x = mw_macro_find(m->msg_macros, name)) == NULL) {
            x = mw_arena_alloc(&m->arena, sizeof(*x));
            x->name = mw_arena_strdup(&m->arena, name);
            x->next = m->msg_macros;
            m->msg_macros = x;
        }
        x->value = mw_arena_strdup(&m->arena, value);
        return;
    }
    if ((x = mw_macro_find(m->conn_macros, name)) == NULL) {
        x = mw_calloc(1, sizeof(*x));
        x->name = mw_strdup(name);
        x->next = m->conn_macros;
        m->conn_macros = x;
    }
    mw_free(&x->value);
    x->value = mw_strdup(value);
}

void
mw_msg_set_auth(struct mw_msg *m, const char *user)
{
    m->auth_user = user ? mw_arena_strdup(&m->arena, user) : NULL;
}

void
mw_msg_set_direction(struct mw_msg *m, enum mw_direction d)
{
    m->direction = d;
}

/* Copy an envelope address without the surrounding angle brackets. */
static const char *
mw_msg_strip_angles(struct mw_msg *m, const char *addr)
{
    size_t len = strlen(addr);
    char *p;

    if (len >= 2 && addr[0] == '<' && addr[len - 1] == '>') {
        p = mw_arena_alloc(&m->arena, len - 1);
        memcpy(p, addr + 1, len - 2);
        p[len - 2] = '\0';
        return p;
    }
    return mw_arena_strdup(&m->arena, addr);
}

void
mw_msg_set_mail_from(struct mw_msg *m, const char *from)
{
    m->in_message = 1;
    m->mail_from = mw_msg_strip_angles(m, from ? from : "");
}

void
mw_msg_add_rcpt(struct mw_msg *m, const char *rcpt)
{
    if (m->nrcpt == m->rcpt_cap) {
        size_t cap = m->rcpt_cap ? m->rcpt_cap * 2 : 8;
        const char **v = mw_arena_alloc(&m->arena, cap * sizeof(*v));

        /* The old vector stays in the arena until reset: bounded by 2x the final size. */
        if (m->nrcpt)
            memcpy(v, m->rcpts, m->nrcpt * sizeof(*v));
        m->rcpts = v;
        m->rcpt_cap = cap;
    }
    m->rcpts[m->nrcpt++] = mw_msg_strip_angles(m, rcpt);
}

int
mw_msg_in_message(const struct mw_msg *m)
{
    return m->in_message;
}

void
mw_msg_set_plugin(struct mw_msg *m, size_t index)
{
    if (index >= m->nplugins)
        mw_log_panic("msg: plugin index %zu out of range (%zu plugins)", index, m->nplugins);
    m->cur_plugin = index;
}

/* Host getters */

const struct mw_msg_change *
mw_msg_changes(const struct mw_msg *m)
{
    return m->changes;
}

const struct mw_msg_item *
mw_msg_ar_entries(const struct mw_msg *m)
{
    return m->ar;
}

const struct mw_msg_item *
mw_msg_log_items(const struct mw_msg *m)
{
    return m->log;
}

int
mw_msg_reply(const struct mw_msg *m, const char **rcode, const char **xcode, const char **text)
{
    if (m->rcode == NULL)
        return -1;
    *rcode = m->rcode;
    *xcode = m->xcode;
    *text = m->reply;
    return 0;
}

void *
mw_msg_alloc(struct mw_msg *m, size_t size)
{
    return mw_arena_alloc(&m->arena, size);
}

char *
mw_msg_strdup(struct mw_msg *m, const char *s)
{
    return mw_arena_strdup(&m->arena, s);
}

/* Plugin side (mw/msg.h) */

const char *
mw_msg_client_addr(const struct mw_msg *m)
{
    return m->client_addr;
}

const char *
mw_msg_client_name(const struct mw_msg *m)
{
    return m->client_name;
}

const char *
mw_msg_helo(const struct mw_msg *m)
{
    return m->helo;
}

const char *
mw_msg_auth_user(const struct mw_msg *m)
{
    return m->auth_user;
}

enum mw_direction
mw_msg_direction(const struct mw_msg *m)
{
    return m->direction;
}

const char *
mw_msg_macro(const struct mw_msg *m, const char *name)
{
    struct mw_macro *x = mw_macro_find(m->msg_macros, name);

    if (x == NULL)
        x = mw_macro_find(m->conn_macros, name);
    return x ? x->value : NULL;
}

const char *
mw_msg_queue_id(const struct mw_msg *m)
{
    const char *id = mw_msg_macro(m, "i");

    return id != NULL && *id != '\0' ? id : "NOQUEUE";
}

const char *
mw_msg_mail_from(const struct mw_msg *m)
{
    return m->mail_from ? m->mail_from : "";
}

size_t
mw_msg_rcpt_count(const struct mw_msg *m)
{
    return m->nrcpt;
}

const char *
mw_msg_rcpt(const struct mw_msg *m, size_t i)
{
    return i < m->nrcpt ? m->rcpts[i] : NULL;
}

void **
mw_msg_data(struct mw_msg *m)
{
    return &m->slots[m->cur_plugin];
}

static void
mw_msg_record(struct mw_msg *m, enum mw_msg_change_kind kind, const char *name, size_t index,
              const char *value)
{
    struct mw_msg_change *c = mw_arena_alloc(&m->arena, sizeof(*c));

    c->kind = kind;
    c->name = mw_arena_strdup(&m->arena, name);
    c->value = value ? mw_arena_strdup(&m->arena, value) : NULL;
    c->index = index;
    m->final = NULL;
    if (m->changes_tail != NULL)
        m->changes_tail->next = c;
    else
        m->changes = c;
    m->changes_tail = c;
}

void
mw_msg_header_add(struct mw_msg *m, const char *name, const char *value)
{
    mw_msg_record(m, MW_MSG_HDR_ADD, name, 0, value);
}

void
mw_msg_header_insert(struct mw_msg *m, size_t pos, const char *name, const char *value)
{
    mw_msg_record(m, MW_MSG_HDR_INSERT, name, pos, value);
}

void
mw_msg_header_change(struct mw_msg *m, const char *name, size_t index, const char *value)
{
    mw_msg_record(m, MW_MSG_HDR_CHANGE, name, index, value);
}

void
mw_msg_header_delete(struct mw_msg *m, const char *name, size_t index)
{
    mw_msg_record(m, MW_MSG_HDR_DELETE, name, index, NULL);
}

void
mw_msg_rcpt_delete(struct mw_msg *m, const char *rcpt)
{
    mw_msg_record(m, MW_MSG_RCPT_DELETE, rcpt, 0, NULL);
}

void
mw_msg_rcpt_add(struct mw_msg *m, const char *rcpt)
{
    mw_msg_record(m, MW_MSG_RCPT_ADD, rcpt, 0, NULL);
}

void
mw_msg_body_replace(struct mw_msg *m, const void *data, size_t len)
{
    struct mw_spool s;

    mw_spool_init(&s, NULL, 0); /* no directory: memory only, an append never fails */
    mw_spool_append(&s, data, len);
    mw_msg_body_replace_spool(m, &s);
    mw_spool_release(&s); /* the empty spool left behind */
}

void
mw_msg_body_replace_spool(struct mw_msg *m, struct mw_spool *s)
{
    if (m->has_body)
        mw_spool_release(&m->body);
    m->body = *s;
    m->has_body = 1;
    mw_spool_init(s, NULL, 0); /* the buffer and descriptor are ours now */
}

const struct mw_spool *
mw_msg_body_replacement(const struct mw_msg *m)
{
    return m->has_body ? &m->body : NULL;
}

static void
mw_msg_item_push(struct mw_msg *m, struct mw_msg_item **head, struct mw_msg_item **tail,
                 const char *fmt, va_list ap)
{
    struct mw_msg_item *it = mw_arena_alloc(&m->arena, sizeof(*it));

    it->text = mw_arena_vprintf(&m->arena, fmt, ap);
    if (*tail != NULL)
        (*tail)->next = it;
    else
        *head = it;
    *tail = it;
}

void
mw_msg_ar_add(struct mw_msg *m, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    mw_msg_item_push(m, &m->ar, &m->ar_tail, fmt, ap);
    va_end(ap);
}

void
mw_msg_log_add(struct mw_msg *m, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    mw_msg_item_push(m, &m->log, &m->log_tail, fmt, ap);
    va_end(ap);
}

void
mw_msg_set_reply(struct mw_msg *m, const char *rcode, const char *xcode, const char *fmt, ...)
{
    va_list ap;

    m->rcode = mw_arena_strdup(&m->arena, rcode);
    m->xcode = mw_arena_strdup(&m->arena, xcode);
    va_start(ap, fmt);
    m->reply = mw_arena_vprintf(&m->arena, fmt, ap);
    va_end(ap);
}

static const char *
mw_arena_strdup_null(struct mw_arena *a, const char *s)
{
    return s ? mw_arena_strdup(a, s) : NULL;
}

void
mw_msg_auth_add(struct mw_msg *m, const struct mw_auth_result *r)
{
    struct mw_auth_node *n = mw_arena_alloc(&m->arena, sizeof(*n));

    if (r->method == NULL || r->result == NULL)
        mw_log_panic("mw_msg_auth_add: method and result are required");
    n->r.method = mw_arena_strdup(&m->arena, r->method);
    n->r.result = mw_arena_strdup(&m->arena, r->result);
    n->r.domain = mw_arena_strdup_null(&m->arena, r->domain);
    n->r.scope = mw_arena_strdup_null(&m->arena, r->scope);
    n->r.selector = mw_arena_strdup_null(&m->arena, r->selector);
    n->r.algorithm = mw_arena_strdup_null(&m->arena, r->algorithm);
    n->next = NULL;
    if (m->auth_tail != NULL)
        m->auth_tail->next = n;
    else
        m->auth = n;
    m->auth_tail = n;
    m->nauth++;
}

size_t
mw_msg_auth_count(const struct mw_msg *m)
{
    return m->nauth;
}

const struct mw_auth_result *
mw_msg_auth(const struct mw_msg *m, size_t i)
{
    const struct mw_auth_node *n = m->auth;

    while (n != NULL && i-- > 0)
        n = n->next;
    return n ? &n->r : NULL;
}

void
mw_msg_quarantine(struct mw_msg *m, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    m->quarantine = mw_arena_vprintf(&m->arena, fmt, ap);
    va_end(ap);
}

const char *
mw_msg_quarantine_reason(const struct mw_msg *m)
{
    return m->quarantine;
}

/* The header section as it will leave (mw_msg_final_header) */

void
mw_msg_add_header(struct mw_msg *m, const char *name, const char *value)
{
    m->final = NULL;
    if (m->hdr_bytes > MW_MSG_HEADERS_MAX)
        return;
    m->hdr_bytes += strlen(name) + strlen(value) + 2;
    if (m->hdr_bytes > MW_MSG_HEADERS_MAX) {
        /* A header section this large is not kept: the final list is empty. */
        m->nhdr = 0;
        return;
    }
    if (m->nhdr == m->hdr_cap) {
        size_t cap = m->hdr_cap ? m->hdr_cap * 2 : 32;
        struct mw_msg_hdr *v = mw_arena_alloc(&m->arena, cap * sizeof(*v));

        /* As for recipients: the old vector stays in the arena, at most 2x the final size. */
        if (m->nhdr)
            memcpy(v, m->hdrs, m->nhdr * sizeof(*v));
        m->hdrs = v;
        m->hdr_cap = cap;
    }
    m->hdrs[m->nhdr].name = mw_arena_strdup(&m->arena, name);
    m->hdrs[m->nhdr].value = mw_arena_strdup(&m->arena, value);
    m->hdrs[m->nhdr++].hidden = 0;
}

/*
 * Position of the index-th field called name, as Postfix's cleanup finds it
 * for a change or deletion: the topmost field is skipped (normally its own
 * Received, which milters never saw), index 0 counts as 1; n: no such field.
 */
static size_t
mw_msg_final_find(const struct mw_msg_hdr *v, size_t n, const char *name, size_t index)
{
    if (index == 0)
        index = 1;
    for (size_t k = 1; k < n; k++)
        if (strcasecmp(v[k].name, name) == 0 && --index == 0)
            return k;
    return n;
}

/* Apply one recorded header change to v (room for one more field). */
static void
mw_msg_final_apply(struct mw_msg_hdr *v, size_t *n, const struct mw_msg_change *c)
{
    struct mw_msg_hdr h = {c->name, c->value, 0};
    size_t k;

    switch (c->kind) {
    case MW_MSG_HDR_ADD:
        v[(*n)++] = h;
        break;
    case MW_MSG_HDR_INSERT:
        /* libmilter's position 0 is above the MTA's Received field: cleanup's index 1. */
        k = c->index < *n ? c->index : *n;
        memmove(v + k + 1, v + k, (*n - k) * sizeof(*v));
        v[k] = h;
        (*n)++;
        break;
    case MW_MSG_HDR_CHANGE:
        /* Postfix appends a field it cannot find (cleanup_upd_header); "" deletes. */
        k = mw_msg_final_find(v, *n, c->name, c->index);
        if (*c->value != '\0') {
            *n += k == *n;
            v[k] = h;
            break;
        }
        /* fall through */
    case MW_MSG_HDR_DELETE:
        k = mw_msg_final_find(v, *n, c->name, c->index);
        if (k < *n) {
            memmove(v + k, v + k + 1, (*n - k - 1) * sizeof(*v));
            (*n)--;
        }
        break;
    case MW_MSG_RCPT_ADD:
    case MW_MSG_RCPT_DELETE:
        break;
    }
}

/* Build the final header list: the MTA's hidden Received, the fields received, the changes. */
static void
mw_msg_final_build(struct mw_msg *m)
{
    size_t cap = m->nhdr + 1, n = 0;
    struct mw_msg_hdr *v;

    for (const struct mw_msg_change *c = m->changes; c != NULL; c = c->next)
        cap++;
    v = mw_arena_alloc(&m->arena, cap * sizeof(*v));
    v[n++] = (struct mw_msg_hdr){"Received", "", 1};
    if (m->nhdr > 0)
        memcpy(v + n, m->hdrs, m->nhdr * sizeof(*v));
    n += m->nhdr;
    for (const struct mw_msg_change *c = m->changes; c != NULL; c = c->next)
        mw_msg_final_apply(v, &n, c);
    /* Drop the hidden field (if still there): plugins see what milters see. */
    for (size_t k = 0; k < n; k++)
        if (v[k].hidden) {
            memmove(v + k, v + k + 1, (n - k - 1) * sizeof(*v));
            n--;
            break;
        }
    m->final = v;
    m->nfinal = n;
}

size_t
mw_msg_final_header_count(struct mw_msg *m)
{
    if (m->hdr_bytes > MW_MSG_HEADERS_MAX)
        return 0;
    if (m->final == NULL)
        mw_msg_final_build(m);
    return m->nfinal;
}

int
mw_msg_final_header(struct mw_msg *m, size_t i, const char **name, const char **value)
{
    if (i >= mw_msg_final_header_count(m))
        return -1;
    *name = m->final[i].name;
    *value = m->final[i].value;
    return 0;
}
