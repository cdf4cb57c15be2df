/*
 * mw/policy-host.h - the host side of mw/policy.h: asking the plugin chain.
 *
 * mailward-policyd turns each socketmap lookup into a struct mw_tlsq and each
 * policy delegation request into a struct mw_accessq, then asks the loaded
 * plugins in their configured order. A NOTFOUND (tls) or DUNNO (access)
 * answer passes the question to the next plugin; the first other answer is
 * delivered to the caller's done callback. When every plugin passed, the
 * answer is NOTFOUND / "DUNNO".
 *
 * A plugin may answer inside its hook or later from the event loop. The ask
 * functions return the question while it is pending, or NULL when it was
 * answered before they returned (done has then already run). A caller that
 * no longer wants the answer (client gone, time limit) calls the abandon
 * function: the question lives on until a plugin answers it, because
 * mw/policy.h promises plugins that a question stays valid until answered.
 * mw_policy_free() releases questions that were never answered (after the
 * plugins' fini, so no plugin holds them any more).
 *
 * Memory: questions belong to this module; the strings passed to done are
 * valid only during the call. Event-loop thread only.
 */
#ifndef MW_POLICY_HOST_H
#define MW_POLICY_HOST_H

#include <stddef.h>

#include "mw/err.h"
#include "mw/plugins.h"
#include "mw/policy.h"

/* Longest domain we accept (RFC 1035 presentation form without the final dot). */
#define MW_DOMAIN_MAX 253
/* Longest answer text a plugin may give (Postfix socketmap replies are at most 100000 bytes). */
#define MW_POLICY_ANSWER_MAX 4096

struct mw_policy;

/*
 * The final answer to a TLS question; text is the policy or the reason, plugin
 * the name of the plugin that answered (NULL for NOTFOUND).
 */
typedef void mw_tls_done_fn(void *arg, enum mw_tls_answer answer, const char *text,
                            const char *plugin);
/* The final answer to an access question: an access(5) action, "DUNNO" (plugin NULL) if none. */
typedef void mw_access_done_fn(void *arg, const char *action, const char *plugin);

/* One attribute of a policy delegation request. */
struct mw_policy_attr {
    char *name;
    char *value;
};

/* A chain over the plugins in ps (which must outlive it, in order). */
struct mw_policy *mw_policy_new(struct mw_plugins *ps);
/* Free the chain and every question still pending; NULL the pointer. */
void mw_policy_free(struct mw_policy **pp);
/* Questions asked but not yet answered or abandoned (for draining at exit). */
size_t mw_policy_pending(const struct mw_policy *p);

/*
 * Ask "which TLS policy for domain?" (domain as returned by
 * mw_policy_domain_parse). Returns the pending question, or NULL when done
 * has already been called.
 */
struct mw_tlsq *mw_policy_tls_ask(struct mw_policy *p, const char *domain, int is_parent,
                                  mw_tls_done_fn *done, void *arg);
/* Forget the caller of a pending question: done will not be called. */
void mw_tlsq_abandon(struct mw_tlsq *q);

/*
 * Ask the access hooks about one policy delegation request. The n attributes
 * are moved into the question (the caller's array is emptied and freed).
 * Returns the pending question or NULL (answered, done already called).
 */
struct mw_accessq *mw_policy_access_ask(struct mw_policy *p, struct mw_policy_attr *attrs, size_t n,
                                        mw_access_done_fn *done, void *arg);
/* Forget the caller of a pending question: done will not be called. */
void mw_accessq_abandon(struct mw_accessq *q);

/*
 * Check a domain name as Postfix sends it (in[0..len), any case, optional
 * trailing dot) and write its canonical form (lower case, no trailing dot)
 * to out, which must hold MW_DOMAIN_MAX + 1 bytes. Labels are 1..63 bytes of
 * letters, digits, '-' and '_', not starting or ending with '-'. Pure.
 */
int mw_policy_domain_parse(const char *in, size_t len, char *out, struct mw_err *err);

#endif
