/*
 * spf-suite.c - run the openspf RFC 7208 test suite (tests/spf/
 * rfc7208-tests.yml, converted by yaml2fixture.py into a line format) on
 * both SPF engines of plugins/spf (spf-engine.h).
 *
 * SYNOPSIS
 *   spf-suite FIXTURE [COUNT [NAME]]
 *
 * DESCRIPTION
 *   Each scenario's zone data answers the engines' lookups through a
 *   struct mw_spf_dns, with the semantics of the suite's reference driver
 *   (pyspf test/testspf.py): records of the asked type in YAML order; a
 *   bare TIMEOUT is a temporary failure for every type with no record
 *   listed before it; a name listed without the type is NODATA, an empty
 *   non-terminal NODATA, an unknown name NXDOMAIN; CNAMEs are followed (at
 *   most 10, a loop answers NODATA, as the reference driver effectively
 *   does); SPF-type records were already turned into TXT by the converter.
 *   For the native engine MX and PTR targets keep their trailing dot (the
 *   evaluator must cope); libspf2 gets them without, as glibc's resolver
 *   layer hands them over.
 *
 *   Every test runs on both engines: the result must be one of the listed
 *   ones and, where the test gives an explanation, the explanation must be
 *   equal ("DEFAULT" standing for "no exp= explanation"). One line per
 *   failing test and engine, then "spf-suite: ENGINE N/COUNT" (with NAME:
 *   "spf-suite NAME: ..."). COUNT (default 203, the RFC 7208 suite) is the
 *   number of tests the fixture must hold. The exit status is 0 only if
 *   the native engine passes all of them (libspf2's count is reported, not
 *   required).
 *
 *   With SPF_SUITE_THREADS=N (at most 16), N threads then repeat the whole
 *   run at the same time, on both engines, and every verdict (result and
 *   explanation) must equal the sequential one: the engines' claim of
 *   thread-safety, checked (also under ASan in a sanitizer build).
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mw/alloc.h"
#include "mw/log.h"
#include "spf/spf-engine.h"

#define SUITE_TESTS 203 /* in rfc7208-tests.yml */

struct rec {
    char type[8];
    char *val;
    size_t len;
};

struct zname {
    char *name;
    struct rec *rec;
    size_t n;
};

struct test {
    char *id, *host, *from, *helo, *want, *exp;
    enum mw_spf_result res[2]; /* per engine, from the sequential run */
    char *got_exp[2];
};

struct scenario {
    char *desc;
    struct zname *names;
    size_t nn;
    struct test *tests;
    size_t nt;
};

struct zone {
    const struct scenario *sc;
    int strip_dots;
};

/* Decode hex (or "-" for empty) into a new NUL-terminated buffer. */
static char *
unhex(const char *s, size_t *len)
{
    size_t n = strlen(s) / 2;
    char *out = mw_malloc(n + 1);

    if (strcmp(s, "-") == 0)
        n = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) {
            fprintf(stderr, "spf-suite: bad hex '%s'\n", s);
            exit(2);
        }
        out[i] = (char)v;
    }
    out[n] = '\0';
    if (len)
        *len = n;
    return out;
}

static void
add_line(struct scenario **scs, size_t *nsc, char *line)
{
    struct scenario *sc = *nsc ? &(*scs)[*nsc - 1] : NULL;
    char kind = line[0], *arg = line[1] ? line + 2 : line + 1;

    if (kind == 'S') {
        *scs = mw_reallocarray(*scs, *nsc + 1, sizeof(**scs));
        memset(&(*scs)[*nsc], 0, sizeof(**scs));
        (*scs)[(*nsc)++].desc = unhex(arg, NULL);
        return;
    }
    if (!sc) {
        fprintf(stderr, "spf-suite: data before the first scenario\n");
        exit(2);
    }
    if (kind == 'D') {
        sc->names = mw_reallocarray(sc->names, sc->nn + 1, sizeof(*sc->names));
        memset(&sc->names[sc->nn], 0, sizeof(*sc->names));
        sc->names[sc->nn++].name = unhex(arg, NULL);
    } else if (kind == 'R' && sc->nn) {
        struct zname *z = &sc->names[sc->nn - 1];
        char *sp = strchr(arg, ' ');
        if (!sp || (size_t)(sp - arg) >= sizeof(z->rec->type))
            exit(2);
        z->rec = mw_reallocarray(z->rec, z->n + 1, sizeof(*z->rec));
        memcpy(z->rec[z->n].type, arg, (size_t)(sp - arg));
        z->rec[z->n].type[sp - arg] = '\0';
        z->rec[z->n].val = strcmp(z->rec[z->n].type, "TIMEOUT") == 0
                               ? mw_strdup("")
                               : unhex(sp + 1, &z->rec[z->n].len);
        z->n++;
    } else if (kind == 'T') {
        sc->tests = mw_reallocarray(sc->tests, sc->nt + 1, sizeof(*sc->tests));
        memset(&sc->tests[sc->nt], 0, sizeof(*sc->tests));
        sc->tests[sc->nt++].id = unhex(arg, NULL);
    } else if (strchr("HFEWX", kind) && sc->nt) {
        struct test *t = &sc->tests[sc->nt - 1];
        char **field = kind == 'H'   ? &t->host
                       : kind == 'F' ? &t->from
                       : kind == 'E' ? &t->helo
                       : kind == 'W' ? &t->want
                                     : &t->exp;
        *field = kind == 'W' ? mw_strdup(arg) : unhex(arg, NULL);
    } else if (kind != '.') {
        fprintf(stderr, "spf-suite: bad fixture line '%s'\n", line);
        exit(2);
    }
}

static struct scenario *
load(const char *path, size_t *nsc)
{
    struct scenario *scs = NULL;
    char line[65536];
    FILE *fp = fopen(path, "r");

    *nsc = 0;
    if (!fp) {
        perror(path);
        exit(2);
    }
    while (fgets(line, sizeof(line), fp)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0])
            add_line(&scs, nsc, line);
    }
    fclose(fp);
    return scs;
}

static void
lower_name(const char *in, char *out, size_t outsz)
{
    size_t n = 0;

    for (; *in && n + 1 < outsz; in++)
        out[n++] = (char)tolower((unsigned char)*in);
    if (n > 0 && out[n - 1] == '.')
        n--;
    out[n] = '\0';
}

static const struct zname *
find_name(const struct scenario *sc, const char *name)
{
    for (size_t i = 0; i < sc->nn; i++)
        if (strcmp(sc->names[i].name, name) == 0)
            return &sc->names[i];
    return NULL;
}

/* Is name an empty non-terminal (some zone name ends in "." name)? */
static int
nonterminal(const struct scenario *sc, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < sc->nn; i++) {
        size_t z = strlen(sc->names[i].name);
        if (z > n + 1 && strcmp(sc->names[i].name + z - n, name) == 0 &&
            sc->names[i].name[z - n - 1] == '.')
            return 1;
    }
    return 0;
}

static const char *const qtype_names[] = {"TXT", "A", "AAAA", "MX", "PTR"};
static const char *const engine_names[] = {"native", "libspf2"};

/* Add one record of the asked type to out. */
static void
add_record(const struct zone *zone, const struct rec *r, enum mw_spf_qtype type,
           struct mw_spf_rrset *out)
{
    struct mw_spf_ip ip;
    const char *v = r->val;
    size_t len = r->len;

    if (type == MW_SPF_A || type == MW_SPF_AAAA) {
        if (mw_spf_ip_parse(v, &ip) == 0)
            mw_spf_rrset_add_ip(out, &ip);
        return;
    }
    if (type == MW_SPF_MX) { /* "pref name" */
        const char *sp = memchr(v, ' ', len);
        len -= sp ? (size_t)(sp + 1 - v) : 0;
        v = sp ? sp + 1 : v;
    }
    if ((type == MW_SPF_MX || type == MW_SPF_PTR) && zone->strip_dots && len > 0 &&
        v[len - 1] == '.')
        len--;
    mw_spf_rrset_add_str(out, v, len);
}

static enum mw_spf_dns_rc
zone_lookup(void *ctx, const char *qname, enum mw_spf_qtype type, struct mw_spf_rrset *out)
{
    const struct zone *zone = ctx;
    char name[1100];

    lower_name(qname, name, sizeof(name));
    for (int hops = 0; hops <= 10; hops++) {
        const struct zname *z = find_name(zone->sc, name);
        const struct rec *cname = NULL;
        size_t found = 0;

        if (!z)
            return nonterminal(zone->sc, name) ? MW_SPF_DNS_NODATA : MW_SPF_DNS_NXDOMAIN;
        for (size_t i = 0; i < z->n && !cname; i++) {
            const struct rec *r = &z->rec[i];
            if (strcmp(r->type, "TIMEOUT") == 0) {
                if (found == 0)
                    return MW_SPF_DNS_TEMP;
                break;
            }
            if (strcmp(r->type, "CNAME") == 0)
                cname = r;
            else if (strcmp(r->type, qtype_names[type]) == 0 && ++found)
                add_record(zone, r, type, out);
        }
        if (found || !cname)
            return found ? MW_SPF_DNS_OK : MW_SPF_DNS_NODATA;
        lower_name(cname->val, name, sizeof(name));
    }
    return MW_SPF_DNS_NODATA; /* a CNAME loop */
}

static int
result_listed(const char *want, const char *got)
{
    size_t n = strlen(got);

    for (const char *p = want; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, got, n) == 0)
            return 1;
        p += len + (p[len] == ',');
    }
    return 0;
}

/* check_host() of test t on engine; -1 if the test's host is no address. */
static int
evaluate(const struct mw_spf_engine *engine, const struct scenario *sc, const struct test *t,
         struct mw_spf_verdict *v)
{
    struct zone zone = {sc, strcmp(engine->name, "libspf2") == 0};
    struct mw_spf_dns dns = {zone_lookup, &zone};
    struct mw_spf_ip ip;
    const char *at = strrchr(t->from, '@');
    const char *domain = *t->from ? (at ? at + 1 : t->from) : t->helo;

    if (mw_spf_ip_parse(t->host, &ip) < 0)
        return -1;
    engine->check_host(&dns, &ip, domain, t->from, t->helo, NULL, v);
    return 0;
}

/* Run one test on engine number e; 1 if it passed. Keeps the verdict. */
static int
run_test(size_t e, const struct scenario *sc, struct test *t)
{
    const struct mw_spf_engine *engine = mw_spf_engine_find(engine_names[e]);
    struct mw_spf_verdict v;
    const char *got, *exp;
    int ok;

    if (evaluate(engine, sc, t, &v) < 0) {
        printf("spf-suite: %s FAIL %s/%s: bad host '%s'\n", engine->name, sc->desc, t->id, t->host);
        return 0;
    }
    got = mw_spf_result_name(v.result);
    exp = v.explanation ? v.explanation : "DEFAULT";
    ok = result_listed(t->want, got) && (!t->exp || strcmp(t->exp, exp) == 0);
    if (!ok)
        printf("spf-suite: %s FAIL %s/%s: want %s got %s%s%.200s%s%.200s%s%s%.200s%s\n",
               engine->name, sc->desc, t->id, t->want, got, t->exp ? " explanation '" : "",
               t->exp ? exp : "", t->exp ? "' want '" : "", t->exp ? t->exp : "", t->exp ? "'" : "",
               v.problem ? " (" : "", v.problem ? v.problem : "", v.problem ? ")" : "");
    t->res[e] = v.result;
    t->got_exp[e] = mw_strdup(exp);
    mw_spf_verdict_release(&v);
    return ok;
}

struct suite {
    struct scenario *scs;
    size_t nsc;
    pthread_mutex_t lock;
    size_t differ;
};

/* A thread of the concurrent pass: every test on both engines again, each
 * verdict compared with the sequential one. */
static void *
rerun(void *arg)
{
    struct suite *su = arg;

    for (size_t e = 0; e < 2; e++)
        for (size_t i = 0; i < su->nsc; i++)
            for (size_t j = 0; j < su->scs[i].nt; j++) {
                const struct test *t = &su->scs[i].tests[j];
                struct mw_spf_verdict v;
                if (evaluate(mw_spf_engine_find(engine_names[e]), &su->scs[i], t, &v) < 0)
                    continue;
                if (v.result != t->res[e] ||
                    strcmp(v.explanation ? v.explanation : "DEFAULT", t->got_exp[e]) != 0) {
                    pthread_mutex_lock(&su->lock);
                    su->differ++;
                    printf("spf-suite: %s FAIL %s/%s: %s in a concurrent run\n", engine_names[e],
                           su->scs[i].desc, t->id, mw_spf_result_name(v.result));
                    pthread_mutex_unlock(&su->lock);
                }
                mw_spf_verdict_release(&v);
            }
    return NULL;
}

/* SPF_SUITE_THREADS=N: N threads repeat the whole run at once; 0 if every
 * verdict equals the sequential one. */
static int
concurrent_pass(struct scenario *scs, size_t nsc, const char *threads)
{
    struct suite su = {scs, nsc, PTHREAD_MUTEX_INITIALIZER, 0};
    pthread_t tid[16];
    size_t n = threads ? strtoul(threads, NULL, 10) : 0;

    if (n == 0)
        return 0;
    if (n > 16)
        n = 16;
    for (size_t i = 0; i < n; i++)
        if (pthread_create(&tid[i], NULL, rerun, &su) != 0) {
            perror("pthread_create");
            exit(2);
        }
    for (size_t i = 0; i < n; i++)
        pthread_join(tid[i], NULL);
    printf("spf-suite: %zu threads at once: %zu verdicts differ\n", n, su.differ);
    return su.differ ? -1 : 0;
}

static void
free_all(struct scenario *scs, size_t nsc)
{
    for (size_t i = 0; i < nsc; i++) {
        for (size_t j = 0; j < scs[i].nn; j++) {
            for (size_t k = 0; k < scs[i].names[j].n; k++)
                mw_free(&scs[i].names[j].rec[k].val);
            mw_free(&scs[i].names[j].rec);
            mw_free(&scs[i].names[j].name);
        }
        for (size_t j = 0; j < scs[i].nt; j++) {
            struct test *t = &scs[i].tests[j];
            mw_free(&t->id);
            mw_free(&t->host);
            mw_free(&t->from);
            mw_free(&t->helo);
            mw_free(&t->want);
            mw_free(&t->exp);
            mw_free(&t->got_exp[0]);
            mw_free(&t->got_exp[1]);
        }
        mw_free(&scs[i].names);
        mw_free(&scs[i].tests);
        mw_free(&scs[i].desc);
    }
    mw_free(&scs);
}

int
main(int argc, char **argv)
{
    size_t nsc, total = 0, passed[2] = {0, 0};
    size_t want = argc > 2 ? strtoul(argv[2], NULL, 10) : SUITE_TESTS;
    const char *name = argc > 3 ? argv[3] : NULL;
    struct scenario *scs;
    int rc = 0;

    if (argc < 2 || argc > 4 || want == 0) {
        fprintf(stderr, "usage: spf-suite FIXTURE [COUNT [NAME]]\n");
        return 2;
    }
    mw_log_open("spf-suite", 0);
    scs = load(argv[1], &nsc);
    for (size_t e = 0; e < 2; e++)
        for (size_t i = 0; i < nsc; i++)
            for (size_t j = 0; j < scs[i].nt; j++) {
                struct test *t = &scs[i].tests[j];
                if (!t->host || !t->from || !t->helo || !t->want) {
                    fprintf(stderr, "spf-suite: incomplete test %s\n", t->id);
                    return 2;
                }
                total += e == 0;
                passed[e] += (size_t)run_test(e, &scs[i], t);
            }
    for (size_t e = 0; e < 2; e++)
        printf("spf-suite%s%s: %s %zu/%zu\n", name ? " " : "", name ? name : "", engine_names[e],
               passed[e], total);
    if (concurrent_pass(scs, nsc, getenv("SPF_SUITE_THREADS")) < 0)
        rc = 1;
    free_all(scs, nsc);
    if (total != want) {
        printf("spf-suite: expected %zu tests in the fixture, found %zu\n", want, total);
        return 1;
    }
    return passed[0] == total ? rc : 1;
}
