/*
 * clients.h - open connections per client address, for
 * [policyd] max_connections_per_client.
 *
 * SYNOPSIS
 *   t = mw_clients_new()
 *   n = mw_clients_add(t, host)      one more connection from host; the new count
 *   mw_clients_remove(t, host)       one fewer (an entry at 0 is freed)
 *   mw_clients_count(t, host)        connections open from host now
 *   mw_clients_free(&t)
 *
 * host is the numeric address a connection came from ("127.0.0.1", "::1").
 * A chained hash table: its size follows the number of distinct clients, not
 * of connections, so 10,000 connections from one address are one entry.
 */
#ifndef MW_POLICYD_CLIENTS_H
#define MW_POLICYD_CLIENTS_H

#include <stddef.h>

struct mw_clients;

struct mw_clients *mw_clients_new(void);
size_t mw_clients_add(struct mw_clients *t, const char *host);
void mw_clients_remove(struct mw_clients *t, const char *host);
size_t mw_clients_count(const struct mw_clients *t, const char *host);
void mw_clients_free(struct mw_clients **tp);

#endif
