/*
 * test-policy.c - unit tests of the plugin chain (lib/policy.c): order,
 * NOTFOUND/DUNNO passing on, answers now and later, abandoned and never
 * answered questions, malformed answers. The plugins are fakes in this file.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mailward-plugin.h"
#include "mw/alloc.h"
#include "mw/log.h"
#include "mw/policy-host.h"

/* What each fake plugin does when asked. */
enum fake_mode { FAKE_NOTFOUND, FAKE_OK, FAKE_HOLD, FAKE_BAD, FAKE_FALLBACK };

struct fake {
    enum fake_mode mode;
    const char *text;
    struct mw_tlsq *held;
    struct mw_accessq *aheld;
    int asked;
    char seen_fallback[32]; /* mw_tlsq_fallback_policy() when asked */
};

static void
fake_tls(void *state, struct mw_tlsq *q)
{
    struct fake *f = state;

    f->asked++;
    snprintf(f->seen_fallback, sizeof(f->seen_fallback), "%s",
             mw_tlsq_fallback_policy(q) ? mw_tlsq_fallback_policy(q) : "-");
    switch (f->mode) {
    case FAKE_NOTFOUND:
        mw_tlsq_reply(q, MW_TLS_NOTFOUND, "%s", "");
        break;
    case FAKE_FALLBACK:
        mw_tlsq_fallback(q, "%s", f->text);
        break;
    case FAKE_OK:
        mw_tlsq_reply(q, MW_TLS_OK, "%s", f->text);
        break;
    case FAKE_BAD:
        mw_tlsq_reply(q, MW_TLS_OK, "encrypt\nPERM injected");
        break;
    case FAKE_HOLD:
        f->held = q;
        break;
    }
}

static void
fake_access(void *state, struct mw_accessq *q)
{
    struct fake *f = state;

    f->asked++;
    switch (f->mode) {
    case FAKE_NOTFOUND:
        mw_accessq_reply(q, "DUNNO");
        break;
    case FAKE_OK:
        mw_accessq_reply(q, "%s %s", f->text, mw_accessq_attr(q, "sender"));
        break;
    case FAKE_BAD:
        mw_accessq_reply(q, "OK\n\naction=OK");
        break;
    case FAKE_HOLD:
    case FAKE_FALLBACK:
        f->aheld = q;
        break;
    }
}

static const struct mw_policy_hooks fake_hooks = {fake_tls, fake_access};
static const struct mw_plugin fake_a = {MW_PLUGIN_ABI, "a",  "1",  NULL,       NULL,
                                        NULL,          NULL, NULL, &fake_hooks};
static const struct mw_plugin fake_b = {MW_PLUGIN_ABI, "b",  "1",  NULL,       NULL,
                                        NULL,          NULL, NULL, &fake_hooks};
static const struct mw_plugin fake_c = {MW_PLUGIN_ABI, "c",  "1",  NULL,       NULL,
                                        NULL,          NULL, NULL, &fake_hooks};
/* A milter-only plugin in the list is skipped. */
static const struct mw_plugin fake_milter = {MW_PLUGIN_ABI, "m",  "1",  NULL, NULL,
                                             NULL,          NULL, NULL, NULL};

struct world {
    struct fake f[3];
    struct mw_plugin_handle h[4];
    struct mw_plugins ps;
    struct mw_policy *policy;
};

struct answer {
    int calls;
    enum mw_tls_answer a;
    char text[256];
    char by[16];
};

static void
tls_done(void *arg, enum mw_tls_answer a, const char *text, const char *plugin)
{
    struct answer *ans = arg;

    ans->calls++;
    ans->a = a;
    snprintf(ans->text, sizeof(ans->text), "%s", text);
    snprintf(ans->by, sizeof(ans->by), "%s", plugin ? plugin : "-");
}

static void
access_done(void *arg, const char *action, const char *plugin)
{
    struct answer *ans = arg;

    ans->calls++;
    snprintf(ans->text, sizeof(ans->text), "%s", action);
    snprintf(ans->by, sizeof(ans->by), "%s", plugin ? plugin : "-");
}

static void
world_init(struct world *w, enum fake_mode a, enum fake_mode b, enum fake_mode c)
{
    memset(w, 0, sizeof(*w));
    w->f[0].mode = a;
    w->f[0].text = "encrypt";
    w->f[1].mode = b;
    w->f[1].text = "dane-only";
    w->f[2].mode = c;
    w->f[2].text = "secure match=nexthop";
    w->h[0].plugin = &fake_a;
    w->h[0].state = &w->f[0];
    w->h[1].plugin = &fake_milter;
    w->h[2].plugin = &fake_b;
    w->h[2].state = &w->f[1];
    w->h[3].plugin = &fake_c;
    w->h[3].state = &w->f[2];
    w->ps.v = w->h;
    w->ps.n = 4;
    w->policy = mw_policy_new(&w->ps);
}

static void
test_first_answer_wins(void **state)
{
    struct world w;
    struct answer ans = {0};

    world_init(&w, FAKE_NOTFOUND, FAKE_OK, FAKE_OK);
    assert_null(mw_policy_tls_ask(w.policy, "example.net", 0, tls_done, &ans));
    assert_int_equal(ans.calls, 1);
    assert_int_equal(ans.a, MW_TLS_OK);
    assert_string_equal(ans.text, "dane-only");
    assert_string_equal(ans.by, "b");
    assert_int_equal(w.f[2].asked, 0);
    assert_int_equal(mw_policy_pending(w.policy), 0);
    mw_policy_free(&w.policy);
    assert_null(w.policy);
}

static void
test_all_notfound(void **state)
{
    struct world w;
    struct answer ans = {0};

    world_init(&w, FAKE_NOTFOUND, FAKE_NOTFOUND, FAKE_NOTFOUND);
    assert_null(mw_policy_tls_ask(w.policy, "example.net", 1, tls_done, &ans));
    assert_int_equal(ans.calls, 1);
    assert_int_equal(ans.a, MW_TLS_NOTFOUND);
    assert_string_equal(ans.by, "-");
    assert_int_equal(w.f[0].asked + w.f[1].asked + w.f[2].asked, 3);
    mw_policy_free(&w.policy);
}

static void
test_later_answer_continues_chain(void **state)
{
    struct world w;
    struct answer ans = {0};
    struct mw_tlsq *q;

    world_init(&w, FAKE_NOTFOUND, FAKE_HOLD, FAKE_OK);
    q = mw_policy_tls_ask(w.policy, "example.net", 1, tls_done, &ans);
    assert_non_null(q);
    assert_ptr_equal(q, w.f[1].held);
    assert_int_equal(ans.calls, 0);
    assert_string_equal(mw_tlsq_domain(q), "example.net");
    assert_true(mw_tlsq_is_parent(q));
    mw_tlsq_reply(q, MW_TLS_NOTFOUND, "%s", "");
    assert_int_equal(ans.calls, 1);
    assert_string_equal(ans.text, "secure match=nexthop");
    assert_string_equal(ans.by, "c");
    mw_policy_free(&w.policy);
}

static void
test_abandoned_and_unanswered(void **state)
{
    struct world w;
    struct answer ans = {0};
    struct mw_tlsq *q;

    world_init(&w, FAKE_HOLD, FAKE_OK, FAKE_OK);
    q = mw_policy_tls_ask(w.policy, "a.example", 0, tls_done, &ans);
    mw_tlsq_abandon(q);
    mw_tlsq_reply(w.f[0].held, MW_TLS_TEMP, "slow");
    assert_int_equal(ans.calls, 0);
    assert_int_equal(mw_policy_pending(w.policy), 0);
    /* never answered: freed with the chain (ASan checks) */
    assert_non_null(mw_policy_tls_ask(w.policy, "b.example", 0, tls_done, &ans));
    assert_int_equal(mw_policy_pending(w.policy), 1);
    mw_policy_free(&w.policy);
    assert_int_equal(ans.calls, 0);
}

static void
test_malformed_answer(void **state)
{
    struct world w;
    struct answer ans = {0};

    world_init(&w, FAKE_BAD, FAKE_OK, FAKE_OK);
    assert_null(mw_policy_tls_ask(w.policy, "example.net", 0, tls_done, &ans));
    assert_int_equal(ans.a, MW_TLS_TEMP);
    assert_null(strchr(ans.text, '\n'));
    ans.calls = 0;
    assert_null(mw_policy_access_ask(w.policy, NULL, 0, access_done, &ans));
    assert_int_equal(ans.calls, 1);
    assert_string_equal(ans.text, "451 4.3.0 temporary policy failure");
    mw_policy_free(&w.policy);
}

static struct mw_policy_attr *
attrs_new(size_t *n)
{
    struct mw_policy_attr *a = mw_calloc(2, sizeof(*a));

    a[0].name = mw_strdup("request");
    a[0].value = mw_strdup("smtpd_access_policy");
    a[1].name = mw_strdup("sender");
    a[1].value = mw_strdup("alice@example.org");
    *n = 2;
    return a;
}

static void
test_access_chain(void **state)
{
    struct world w;
    struct answer ans = {0};
    struct mw_accessq *q;
    struct mw_policy_attr *a;
    size_t n;

    world_init(&w, FAKE_NOTFOUND, FAKE_NOTFOUND, FAKE_NOTFOUND);
    a = attrs_new(&n);
    assert_null(mw_policy_access_ask(w.policy, a, n, access_done, &ans));
    assert_string_equal(ans.text, "DUNNO");
    assert_string_equal(ans.by, "-");
    mw_policy_free(&w.policy);

    world_init(&w, FAKE_HOLD, FAKE_OK, FAKE_OK);
    w.f[1].text = "450 4.7.1 no";
    a = attrs_new(&n);
    q = mw_policy_access_ask(w.policy, a, n, access_done, &ans);
    assert_non_null(q);
    assert_string_equal(mw_accessq_attr(q, "sender"), "alice@example.org");
    assert_null(mw_accessq_attr(q, "client_address"));
    mw_accessq_reply(q, "dunno");
    assert_string_equal(ans.text, "450 4.7.1 no alice@example.org");
    assert_string_equal(ans.by, "b");
    mw_policy_free(&w.policy);
}

/* A fallback lets later plugins answer, who can see it; with no later answer it is the answer. */
static void
test_fallback(void **state)
{
    struct world w;
    struct answer ans = {0};
    struct mw_tlsq *q;

    world_init(&w, FAKE_FALLBACK, FAKE_OK, FAKE_OK);
    assert_null(mw_policy_tls_ask(w.policy, "example.net", 0, tls_done, &ans));
    assert_int_equal(ans.a, MW_TLS_OK);
    assert_string_equal(ans.text, "dane-only");
    assert_string_equal(ans.by, "b");
    assert_string_equal(w.f[0].seen_fallback, "-");
    assert_string_equal(w.f[1].seen_fallback, "encrypt");
    mw_policy_free(&w.policy);

    memset(&ans, 0, sizeof(ans));
    world_init(&w, FAKE_FALLBACK, FAKE_NOTFOUND, FAKE_NOTFOUND);
    assert_null(mw_policy_tls_ask(w.policy, "example.net", 0, tls_done, &ans));
    assert_int_equal(ans.calls, 1);
    assert_int_equal(ans.a, MW_TLS_OK);
    assert_string_equal(ans.text, "encrypt");
    assert_string_equal(ans.by, "a");
    assert_int_equal(w.f[2].asked, 1);
    mw_policy_free(&w.policy);

    /* The first fallback is kept; one given later, from the loop, works the same. */
    memset(&ans, 0, sizeof(ans));
    world_init(&w, FAKE_FALLBACK, FAKE_HOLD, FAKE_FALLBACK);
    q = mw_policy_tls_ask(w.policy, "example.net", 0, tls_done, &ans);
    assert_non_null(q);
    mw_tlsq_fallback(q, "%s", "verify");
    assert_int_equal(ans.calls, 1);
    assert_string_equal(ans.text, "encrypt");
    assert_string_equal(ans.by, "a");
    assert_string_equal(w.f[2].seen_fallback, "encrypt");
    assert_int_equal(mw_policy_pending(w.policy), 0);
    mw_policy_free(&w.policy);

    /* A fallback of the last plugin is its answer. */
    memset(&ans, 0, sizeof(ans));
    world_init(&w, FAKE_NOTFOUND, FAKE_NOTFOUND, FAKE_FALLBACK);
    assert_null(mw_policy_tls_ask(w.policy, "example.net", 0, tls_done, &ans));
    assert_string_equal(ans.text, "secure match=nexthop");
    assert_string_equal(ans.by, "c");
    mw_policy_free(&w.policy);
}

/* A malformed fallback is a TEMP answer, like a malformed policy. */
static void
test_fallback_malformed(void **state)
{
    struct world w;
    struct answer ans = {0};
    struct mw_tlsq *q;

    world_init(&w, FAKE_HOLD, FAKE_OK, FAKE_OK);
    q = mw_policy_tls_ask(w.policy, "example.net", 0, tls_done, &ans);
    assert_non_null(q);
    mw_tlsq_fallback(q, "%s", "encrypt\nPERM x");
    assert_int_equal(ans.calls, 1);
    assert_int_equal(ans.a, MW_TLS_TEMP);
    assert_int_equal(w.f[1].asked, 0);
    mw_policy_free(&w.policy);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_answer_wins),
        cmocka_unit_test(test_all_notfound),
        cmocka_unit_test(test_later_answer_continues_chain),
        cmocka_unit_test(test_abandoned_and_unanswered),
        cmocka_unit_test(test_malformed_answer),
        cmocka_unit_test(test_access_chain),
        cmocka_unit_test(test_fallback),
        cmocka_unit_test(test_fallback_malformed),
    };

    mw_log_open("test-policy", 0);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
