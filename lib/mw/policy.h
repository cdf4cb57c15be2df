/*
 * mw/policy.h - the questions mailward-policyd asks its plugins.
 *
 * struct mw_tlsq: "what TLS policy applies to next-hop DOMAIN?" (a Postfix
 * smtp_tls_policy_maps socketmap lookup). struct mw_accessq: one Postfix
 * policy delegation request (SMTPD_POLICY_README attributes).
 *
 * A plugin answers exactly once, now or later from the event loop. A question
 * stays valid until answered, even if the client has gone (the host then drops
 * the answer), so a plugin never needs to cancel its work. The host passes a
 * NOTFOUND / DUNNO answer on to the next plugin. Event-loop thread only.
 */
#ifndef MW_POLICY_H
#define MW_POLICY_H

enum mw_tls_answer {
    MW_TLS_NOTFOUND, /* no policy from this plugin */
    MW_TLS_OK,       /* text: the policy, e.g. "encrypt", "dane-only", "secure match=..." */
    MW_TLS_TEMP,     /* text: reason; Postfix defers delivery */
    MW_TLS_PERM,     /* text: reason */
};

struct mw_tlsq;
struct mw_accessq;

/* The next-hop domain, lower case, no trailing dot. */
const char *mw_tlsq_domain(const struct mw_tlsq *q);
/* Non-zero for Postfix's parent-domain keys (".example.net"; domain() is then "example.net"). */
int mw_tlsq_is_parent(const struct mw_tlsq *q);
/* Answer the question (text may be empty for NOTFOUND). */
void mw_tlsq_reply(struct mw_tlsq *q, enum mw_tls_answer answer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Answer "no policy from this plugin, but if no later plugin has one, this":
 * the question moves on as after NOTFOUND, and when every later plugin
 * passes, the answer is OK with this policy. Local rules that must not
 * override published policies (MTA-STS, DANE) answer this way. Counts as
 * the plugin's one answer. The first fallback given is kept.
 */
void mw_tlsq_fallback(struct mw_tlsq *q, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The fallback an earlier plugin left (e.g. "encrypt"), or NULL. */
const char *mw_tlsq_fallback_policy(const struct mw_tlsq *q);

/* A request attribute ("sender", "client_address", "encryption_protocol", ...), NULL if absent. */
const char *mw_accessq_attr(const struct mw_accessq *q, const char *name);
/* Answer with an access(5) action: "DUNNO" passes to the next plugin; "450 4.7.1 text". */
void mw_accessq_reply(struct mw_accessq *q, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
