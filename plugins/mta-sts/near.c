/*
 * near.c - the near cache of parsed MTA-STS policies (see near.h).
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "mta-sts.h"
#include "mw/alloc.h"
#include "near.h"

struct mw_sts_near_slot {
    char *domain;
    struct mw_sts_cached *c;
    long long until_ms; /* monotonic */
};

struct mw_sts_near {
    struct mw_sts_near_slot slot[MW_STS_NEAR_SLOTS];
};

static long long
mw_sts_near_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct mw_sts_near_slot *
mw_sts_near_slot(struct mw_sts_near *n, const char *domain)
{
    unsigned long h = 2166136261u; /* FNV-1a */

    for (const unsigned char *p = (const unsigned char *)domain; *p; p++)
        h = (h ^ *p) * 16777619u;
    return &n->slot[h % MW_STS_NEAR_SLOTS];
}

static void
mw_sts_near_clear(struct mw_sts_near_slot *s)
{
    mw_free(&s->domain);
    mw_sts_cached_free(&s->c);
}

struct mw_sts_near *
mw_sts_near_new(void)
{
    return mw_calloc(1, sizeof(struct mw_sts_near));
}

void
mw_sts_near_free(struct mw_sts_near **np)
{
    if (*np == NULL)
        return;
    for (size_t i = 0; i < MW_STS_NEAR_SLOTS; i++)
        mw_sts_near_clear(&(*np)->slot[i]);
    mw_free(np);
}

const struct mw_sts_cached *
mw_sts_near_get(struct mw_sts_near *n, const char *domain)
{
    struct mw_sts_near_slot *s = mw_sts_near_slot(n, domain);
    long long now = (long long)time(NULL);

    if (s->domain == NULL || strcmp(s->domain, domain) != 0)
        return NULL;
    if (mw_sts_near_now_ms() >= s->until_ms || now >= s->c->e.next_check ||
        now >= s->c->e.fetched + (long long)s->c->p->max_age) {
        mw_sts_near_clear(s);
        return NULL;
    }
    return s->c;
}

void
mw_sts_near_put(struct mw_sts_near *n, const char *domain, struct mw_sts_cached *c)
{
    struct mw_sts_near_slot *s = mw_sts_near_slot(n, domain);

    mw_sts_near_clear(s);
    s->domain = mw_strdup(domain);
    s->c = c;
    s->until_ms = mw_sts_near_now_ms() + MW_STS_NEAR_MS;
}
