/*
 * near.h - the mta-sts plugin's near cache: policies read from the shared cache
 * (Redis) kept parsed in this process for MW_STS_NEAR_MS, so that a busy domain
 * costs one cache round trip and one parse a second instead of one per lookup.
 * Entries go once their TXT id check is due or the policy expired (the lookup
 * then takes the shared-cache path, which starts the refresh); a change made in
 * the shared cache by another process (mailwardctl cache flush, another daemon's
 * refresh) is seen within MW_STS_NEAR_MS. Event-loop thread only.
 */
#ifndef MW_STS_NEAR_H
#define MW_STS_NEAR_H

#define MW_STS_NEAR_MS 1000
#define MW_STS_NEAR_SLOTS 4096 /* direct-mapped: a collision replaces */

struct mw_sts_cached;
struct mw_sts_near;

struct mw_sts_near *mw_sts_near_new(void);
void mw_sts_near_free(struct mw_sts_near **np);
/* The fresh policy of domain, or NULL (then nothing of domain is kept). */
const struct mw_sts_cached *mw_sts_near_get(struct mw_sts_near *n, const char *domain);
/* Keep c (taken over) for domain. */
void mw_sts_near_put(struct mw_sts_near *n, const char *domain, struct mw_sts_cached *c);

#endif
