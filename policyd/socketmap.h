/*
 * socketmap.h - the Postfix socketmap_table(5) protocol of mailward-policyd.
 *
 * mw_socketmap_proto plugs into the connection skeleton (server.h): each
 * netstring request "NAME KEY" becomes a TLS question to the plugin chain
 * (mw/policy-host.h) and its answer a netstring reply, in request order.
 * Single thread (the event loop).
 */
#ifndef MW_POLICYD_SOCKETMAP_H
#define MW_POLICYD_SOCKETMAP_H

#include "server.h"

/* Largest request payload accepted; Postfix keys are domain names, far smaller. */
#define MW_SOCKETMAP_REQUEST_MAX 10000

extern const struct mw_proto mw_socketmap_proto;

#endif
