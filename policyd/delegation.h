/*
 * delegation.h - the Postfix policy delegation protocol (SMTPD_POLICY_README)
 * of mailward-policyd.
 *
 * mw_delegation_proto plugs into the connection skeleton (server.h): each
 * request, "name=value" lines ended by an empty line, becomes an access
 * question to the plugin chain (mw/policy-host.h); the reply is
 * "action=ACTION" and an empty line, in request order. Single thread.
 */
#ifndef MW_POLICYD_DELEGATION_H
#define MW_POLICYD_DELEGATION_H

#include "server.h"

/* Bounds of one request: attributes, and bytes per "name=value" line. */
#define MW_DELEGATION_ATTRS_MAX 100
#define MW_DELEGATION_LINE_MAX 2048

extern const struct mw_proto mw_delegation_proto;

#endif
