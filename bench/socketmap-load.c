/*
 * socketmap-load.c - a load client for Postfix socketmap servers (socketmap_table(5)).
 * CONNS connections, each with up to DEPTH questions in flight (1: one at a time, the
 * way Postfix asks; more: pipelined), for SECONDS or until the keys run out. Keys come
 * from KEYFILE, one per line, cycled (warm: answers from the server's cache) or, with -o,
 * each asked once (cold: the first sight of each key). See socketmap-load(1).
 *
 *   socketmap-load [-c CONNS] [-d DEPTH] [-t SECONDS] [-m MAPNAME] [-o] HOST:PORT KEYFILE
 *
 * Prints one line: requests, seconds, rate, latency p50/p90/p99/max (a question's write
 * to its answer's arrival) and the count per answer word. A benchmark tool: it asserts
 * nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cpu.h"

#define MAXCONN 4096
#define MAXDEPTH 1024
#define INSZ 65536

struct conn {
    int fd;
    char *out;
    size_t outlen, outoff, outcap;
    char in[INSZ];
    size_t inlen;
    double sent[MAXDEPTH]; /* ring of the questions in flight */
    unsigned head, inflight;
};

static char **keys;
static size_t nkeys, next_key;
static int once, depth = 1;
static const char *map = "mailward";
static unsigned long n_ok, n_notfound, n_temp, n_perm, n_other;
static float *lat;
static size_t nlat, caplat;

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
load_keys(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[512];
    size_t cap = 0;

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0')
            continue;
        if (nkeys == cap) {
            cap = cap ? cap * 2 : 1024;
            keys = realloc(keys, cap * sizeof(*keys));
            if (keys == NULL)
                exit(71);
        }
        keys[nkeys++] = strdup(line);
    }
    fclose(f);
    return nkeys > 0 ? 0 : -1;
}

/* Queue the next question on c; 0 when the keys ran out. */
static int
ask(struct conn *c, double t)
{
    const char *key;
    char q[480];
    int n;

    if (next_key == nkeys) {
        if (once)
            return 0;
        next_key = 0;
    }
    key = keys[next_key++];
    n = snprintf(q, sizeof(q), "%s %s", map, key);
    if (n < 0 || (size_t)n >= sizeof(q))
        return 0;
    if (c->outlen + 500 > c->outcap) {
        c->outcap = c->outcap * 2 + 1024;
        c->out = realloc(c->out, c->outcap);
        if (c->out == NULL)
            exit(71);
    }
    c->outlen += (size_t)snprintf(c->out + c->outlen, c->outcap - c->outlen, "%d:%s,", n, q);
    c->sent[(c->head + c->inflight) % MAXDEPTH] = t;
    c->inflight++;
    return 1;
}

static void
count(const char *a, size_t len)
{
    if (len >= 2 && memcmp(a, "OK", 2) == 0)
        n_ok++;
    else if (len >= 8 && memcmp(a, "NOTFOUND", 8) == 0)
        n_notfound++;
    else if (len >= 4 && memcmp(a, "TEMP", 4) == 0)
        n_temp++;
    else if (len >= 4 && memcmp(a, "PERM", 4) == 0)
        n_perm++;
    else
        n_other++;
}

static void
record(double t)
{
    if (nlat == caplat) {
        caplat = caplat ? caplat * 2 : 65536;
        lat = realloc(lat, caplat * sizeof(*lat));
        if (lat == NULL)
            exit(71);
    }
    lat[nlat++] = (float)t;
}

/* Take every complete netstring in c->in; how many, or -1 on garbage. */
static int
take_answers(struct conn *c, double t)
{
    size_t off = 0;
    int got = 0;

    for (;;) {
        char *colon = memchr(c->in + off, ':', c->inlen - off);
        char *end;
        size_t len, used;

        if (colon == NULL)
            break;
        len = strtoul(c->in + off, &end, 10);
        if (end != colon || len > INSZ)
            return -1;
        used = (size_t)(colon - (c->in + off)) + 1 + len + 1;
        if (c->inlen - off < used)
            break;
        if (c->inflight == 0)
            return -1;
        count(colon + 1, len);
        record(t - c->sent[c->head]);
        c->head = (c->head + 1) % MAXDEPTH;
        c->inflight--;
        off += used;
        got++;
    }
    memmove(c->in, c->in + off, c->inlen - off);
    c->inlen -= off;
    return got;
}

static int
cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;

    return x < y ? -1 : x > y;
}

static double
pct(double p)
{
    size_t i = nlat ? (size_t)(p / 100.0 * (double)(nlat - 1) + 0.5) : 0;

    return nlat ? (double)lat[i] * 1e6 : 0;
}

static int
open_conn(struct conn *c, const struct sockaddr_in *sa)
{
    int one = 1;

    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0 || connect(c->fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
        perror("socketmap-load: connect");
        return -1;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fcntl(c->fd, F_SETFL, O_NONBLOCK);
}

/* Serve one connection's events; -1 when it failed. */
static int
serve(struct conn *c, short revents, int *active)
{
    ssize_t n;
    double t;
    int got;

    if (revents & POLLOUT) {
        n = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
        if (n < 0 && errno != EAGAIN)
            return -1;
        if (n > 0)
            c->outoff += (size_t)n;
        if (c->outoff == c->outlen)
            c->outoff = c->outlen = 0;
    }
    if (!(revents & (POLLIN | POLLHUP | POLLERR)))
        return 0;
    n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
    if (n <= 0)
        return n < 0 && errno == EAGAIN ? 0 : -1;
    c->inlen += (size_t)n;
    t = now();
    if ((got = take_answers(c, t)) < 0)
        return -1;
    while (got-- > 0)
        if (!ask(c, t))
            break;
    if (c->inflight == 0)
        (*active)--;
    return 0;
}

static void
usage(void)
{
    fprintf(stderr, "usage: socketmap-load [-c CONNS] [-d DEPTH] [-t SECONDS] [-m MAPNAME] [-o] "
                    "HOST:PORT KEYFILE\n");
    exit(64);
}

int
main(int argc, char **argv)
{
    static struct conn conns[MAXCONN];
    static struct pollfd pfd[MAXCONN];
    struct sockaddr_in sa;
    int nconn = 32, seconds = 10, active = 0, ch;
    double start, end, t;
    char *colon;

    while ((ch = getopt(argc, argv, "c:d:m:ot:")) != -1) {
        switch (ch) {
        case 'c':
            nconn = atoi(optarg);
            break;
        case 'd':
            depth = atoi(optarg);
            break;
        case 'm':
            map = optarg;
            break;
        case 'o':
            once = 1;
            break;
        case 't':
            seconds = atoi(optarg);
            break;
        default:
            usage();
        }
    }
    if (argc - optind != 2 || nconn < 1 || nconn > MAXCONN || seconds < 1 || depth < 1 ||
        depth > MAXDEPTH)
        usage();
    if (load_keys(argv[optind + 1]) < 0) {
        fprintf(stderr, "socketmap-load: no keys in %s\n", argv[optind + 1]);
        return 66;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    colon = strrchr(argv[optind], ':');
    if (colon == NULL)
        usage();
    *colon = '\0';
    sa.sin_port = htons((unsigned short)atoi(colon + 1));
    if (inet_pton(AF_INET, argv[optind], &sa.sin_addr) != 1)
        usage();
    for (int i = 0; i < nconn; i++)
        if (open_conn(&conns[i], &sa) < 0)
            return 69;
    start = now();
    end = start + seconds;
    for (int i = 0; i < nconn; i++) {
        for (int d = 0; d < depth; d++)
            if (!ask(&conns[i], start))
                break;
        if (conns[i].inflight > 0)
            active++;
    }
    while (active > 0 && (t = now()) < end) {
        for (int i = 0; i < nconn; i++) {
            pfd[i].fd = conns[i].inflight > 0 ? conns[i].fd : -1;
            pfd[i].events = (short)(POLLIN | (conns[i].outoff < conns[i].outlen ? POLLOUT : 0));
            pfd[i].revents = 0;
        }
        if (poll(pfd, (nfds_t)nconn, 100) < 0 && errno != EINTR)
            return 70;
        for (int i = 0; i < nconn; i++)
            if (pfd[i].revents != 0 && serve(&conns[i], pfd[i].revents, &active) < 0) {
                fprintf(stderr, "socketmap-load: the server closed a connection or sent garbage\n");
                return 70;
            }
    }
    end = now();
    qsort(lat, nlat, sizeof(*lat), cmp_float);
    printf("requests=%zu seconds=%.2f rate=%.0f/s p50=%.0fus p90=%.0fus p99=%.0fus max=%.0fus "
           "OK=%lu NOTFOUND=%lu TEMP=%lu PERM=%lu other=%lu client_cpu=%.1fus\n",
           nlat, end - start, (double)nlat / (end - start), pct(50), pct(90), pct(99),
           nlat ? (double)lat[nlat - 1] * 1e6 : 0.0, n_ok, n_notfound, n_temp, n_perm, n_other,
           cpu_seconds() * 1e6 / (double)(nlat ? nlat : 1));
    return 0;
}
