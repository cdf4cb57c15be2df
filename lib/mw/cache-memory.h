/*
 * mw/cache-memory.h - the in-process tier of the cache: a bounded LRU.
 *
 * A hash table (chained, grown by doubling) plus a doubly linked recency
 * list: get, set and delete are O(1). When a set would exceed max_entries
 * the least recently used entry is dropped. Every entry carries an expiry
 * time on the monotonic clock; an expired entry is a miss and is dropped
 * when it is read (or when it reaches the end of the recency list).
 *
 * Keys are C strings, values are bytes (NULs allowed). The table copies both;
 * the caller keeps ownership of what it passes in. Hashing is keyed with a
 * per-table random seed, because keys are derived from names that remote
 * parties choose (sender domains).
 *
 * Thread-safe: every call takes the table's mutex. Used by mw/cache.h; other
 * modules should use mw_cache_*() instead.
 */
#ifndef MW_CACHE_MEMORY_H
#define MW_CACHE_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "mw/buf.h"

struct mw_cache_memory;

/* A table holding at most max_entries (at least 1). */
struct mw_cache_memory *mw_cache_memory_new(size_t max_entries);
/* Free the table and every entry; NULLs the pointer. */
void mw_cache_memory_free(struct mw_cache_memory **mp);
/*
 * Look key up. On a hit (1) the value is appended to out and *ttl_ms (if not
 * NULL) gets the milliseconds it has left; a miss or an expired entry is 0.
 */
int mw_cache_memory_get(struct mw_cache_memory *m, const char *key, struct mw_buf *out,
                        uint64_t *ttl_ms);
/* Store (or replace) key for ttl_ms milliseconds; ttl_ms 0 deletes it. */
void mw_cache_memory_set(struct mw_cache_memory *m, const char *key, const void *val, size_t len,
                         uint64_t ttl_ms);
/* Remove key if present. */
void mw_cache_memory_del(struct mw_cache_memory *m, const char *key);
/* Entries held now (expired ones not yet dropped included). */
size_t mw_cache_memory_count(struct mw_cache_memory *m);
/* Milliseconds on the monotonic clock (what expiry times are measured in). */
uint64_t mw_cache_now_ms(void);

#endif
