/*
 * socketmap-load.c - a load client for Postfix socketmap servers (socketmap_table(5)):
 * CONNS connections, each asking one question at a time the way Postfix does, for
 * SECONDS or until the keys run out. Keys are read from KEYFILE, one per line; with
 * "cycle" the list repeats (cached lookups), with "once" every key is asked once
 * (uncached lookups: the first sight of each domain).
 *
 *   socketmap-load HOST PORT MAPNAME CONNS SECONDS KEYFILE cycle|once
 *
 * Prints one line: requests, seconds, rate, and the count per answer word.
 * A benchmark tool, not a test: it asserts nothing.
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

#define MAXCONN 1024
#define BUFSZ 100100

struct conn {
    int fd;
    char out[512];
    size_t outlen, outoff;
    char in[BUFSZ];
    size_t inlen;
    int busy; /* a question is out */
};

static char **keys;
static size_t nkeys, next_key;
static int cycle;
static unsigned long n_ok, n_notfound, n_temp, n_perm, n_other;

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
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
                exit(1);
        }
        keys[nkeys++] = strdup(line);
    }
    fclose(f);
    return nkeys > 0 ? 0 : -1;
}

/* Queue the next question on c; 0 when the keys ran out. */
static int
ask(struct conn *c, const char *map)
{
    const char *key;
    char q[480];
    int n;

    if (next_key == nkeys) {
        if (!cycle)
            return 0;
        next_key = 0;
    }
    key = keys[next_key++];
    n = snprintf(q, sizeof(q), "%s %s", map, key);
    if (n < 0 || (size_t)n >= sizeof(q))
        return 0;
    c->outlen = (size_t)snprintf(c->out, sizeof(c->out), "%d:%s,", n, q);
    c->outoff = 0;
    c->busy = 1;
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

/* A complete netstring in c->in: count it, drop it; 1 if one was there. */
static int
take_answer(struct conn *c)
{
    char *colon = memchr(c->in, ':', c->inlen);
    size_t len, used;

    if (colon == NULL)
        return 0;
    len = strtoul(c->in, NULL, 10);
    used = (size_t)(colon - c->in) + 1 + len + 1;
    if (c->inlen < used)
        return 0;
    count(colon + 1, len);
    memmove(c->in, c->in + used, c->inlen - used);
    c->inlen -= used;
    c->busy = 0;
    return 1;
}

int
main(int argc, char **argv)
{
    static struct conn conns[MAXCONN];
    struct pollfd pfd[MAXCONN];
    struct sockaddr_in sa;
    int nconn, seconds, active;
    double start, end;
    unsigned long done = 0;

    if (argc != 8) {
        fprintf(stderr, "usage: socketmap-load HOST PORT MAPNAME CONNS SECONDS KEYFILE cycle|once\n");
        return 64;
    }
    nconn = atoi(argv[4]);
    seconds = atoi(argv[5]);
    cycle = strcmp(argv[7], "cycle") == 0;
    if (nconn < 1 || nconn > MAXCONN || seconds < 1 || load_keys(argv[6]) < 0) {
        fprintf(stderr, "socketmap-load: bad CONNS/SECONDS or no keys in %s\n", argv[6]);
        return 64;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
        return 64;
    for (int i = 0; i < nconn; i++) {
        int one = 1;

        conns[i].fd = socket(AF_INET, SOCK_STREAM, 0);
        if (conns[i].fd < 0 || connect(conns[i].fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            perror("socketmap-load: connect");
            return 69;
        }
        setsockopt(conns[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        fcntl(conns[i].fd, F_SETFL, O_NONBLOCK);
    }
    start = now();
    end = start + seconds;
    active = 0;
    for (int i = 0; i < nconn; i++)
        if (ask(&conns[i], argv[3]))
            active++;
    while (active > 0 && now() < end) {
        for (int i = 0; i < nconn; i++) {
            pfd[i].fd = conns[i].busy ? conns[i].fd : -1;
            pfd[i].events = conns[i].outoff < conns[i].outlen ? POLLOUT : POLLIN;
            pfd[i].revents = 0;
        }
        if (poll(pfd, (nfds_t)nconn, 100) < 0 && errno != EINTR)
            return 70;
        for (int i = 0; i < nconn; i++) {
            struct conn *c = &conns[i];
            ssize_t n;

            if (pfd[i].revents == 0)
                continue;
            if (c->outoff < c->outlen) {
                n = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
                if (n > 0)
                    c->outoff += (size_t)n;
                continue;
            }
            n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
            if (n <= 0) {
                if (n < 0 && errno == EAGAIN)
                    continue;
                fprintf(stderr, "socketmap-load: the server closed a connection\n");
                return 70;
            }
            c->inlen += (size_t)n;
            if (take_answer(c)) {
                done++;
                if (!ask(c, argv[3]))
                    active--;
            }
        }
    }
    end = now();
    printf("requests=%lu seconds=%.2f rate=%.0f/s OK=%lu NOTFOUND=%lu TEMP=%lu PERM=%lu other=%lu\n",
           done, end - start, done / (end - start), n_ok, n_notfound, n_temp, n_perm, n_other);
    return 0;
}
