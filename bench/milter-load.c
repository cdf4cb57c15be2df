/*
 * milter-load.c - a load client for milters: it plays the part of Postfix's cleanup and
 * smtpd (the MTA side of the milter protocol, version 6), so that a milter's throughput
 * and latency can be measured without an MTA in front of it.
 *
 * Each of CONNS threads holds one milter connection and sends messages over it, one at a
 * time: option negotiation, macros, connect, helo, mail, rcpt, headers, end of headers,
 * the body in chunks, end of message (and quit after -k messages, then a new connection).
 * Messages are the .eml files of a directory (or files named on the command line), cycled.
 * Every command the milter did not negotiate away waits for its reply, as the MTA does.
 * It reports messages/s, the latency of a message (first command to the end-of-message
 * reply) as p50/p90/p99/max, the final verdicts and the errors. See milter-load(1).
 *
 * A benchmark tool, not a test: it asserts nothing. No libmilter (that is the server side).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cpu.h"

/* Protocol flags (libmilter's mfdef.h) the MTA offers and the milter may choose. */
#define P_NOCONNECT 0x1u
#define P_NOHELO 0x2u
#define P_NOMAIL 0x4u
#define P_NORCPT 0x8u
#define P_NOBODY 0x10u
#define P_NOHDRS 0x20u
#define P_NOEOH 0x40u
#define P_NR_HDR 0x80u
#define P_SKIP 0x400u
#define P_NR_CONN 0x1000u
#define P_NR_HELO 0x2000u
#define P_NR_MAIL 0x4000u
#define P_NR_RCPT 0x8000u
#define P_NR_EOH 0x40000u
#define P_NR_BODY 0x80000u
#define P_OFFER 0x000fffffu /* everything but SMFIP_HDR_LEADSPC */
#define MAXFRAME (64u * 1024 * 1024)

struct msg {
    char *name;
    char **hdr_name, **hdr_value; /* unfolded the way Postfix sends them */
    size_t nhdr;
    char *body; /* CRLF lines */
    size_t bodylen;
};

struct opts {
    const char *targets[4], *client_addr, *helo, *from, *rcpt, *match;
    int ntargets, conns, seconds, per_conn, delayed_ack;
    unsigned long offer;
    long total;
    size_t chunk;
};

struct worker {
    pthread_t tid;
    double *lat; /* seconds, one per message */
    size_t nlat, caplat;
    unsigned long accept, reject, tempfail, discard, errors, matched, connects;
};

static struct opts o = {{NULL},
                        "127.0.0.1",
                        "client.example",
                        "alice@valid.test",
                        "bob@example.net",
                        NULL,
                        0,
                        8,
                        10,
                        1,
                        0,
                        0,
                        P_OFFER,
                        65535};
static struct msg *msgs;
static size_t nmsgs;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static size_t next_msg;
static long started;
static double deadline;

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL) {
        fprintf(stderr, "milter-load: out of memory\n");
        exit(71);
    }
    return p;
}

static char *
xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* ---- messages ---- */

static void
add_header(struct msg *m, const char *line, size_t len, size_t *cap)
{
    const char *colon = memchr(line, ':', len);
    size_t nlen = colon ? (size_t)(colon - line) : len, v;

    if (m->nhdr == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        m->hdr_name = realloc(m->hdr_name, *cap * sizeof(char *));
        m->hdr_value = realloc(m->hdr_value, *cap * sizeof(char *));
        if (m->hdr_name == NULL || m->hdr_value == NULL)
            exit(71);
    }
    v = colon ? nlen + 1 : len;
    while (v < len && (line[v] == ' ' || line[v] == '\t'))
        v++;
    m->hdr_name[m->nhdr] = xstrndup(line, nlen);
    m->hdr_value[m->nhdr] = xstrndup(line + v, len - v);
    m->nhdr++;
}

/* Split raw (LF or CRLF lines) into unfolded headers and a CRLF body. */
static void
parse_msg(struct msg *m, const char *raw, size_t len)
{
    size_t pos = 0, cap = 0, hstart = 0, hlen = 0;
    char *head = xmalloc(len + 1);
    int in_hdr = 0;

    while (pos < len) {
        const char *nl = memchr(raw + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - raw) : len, l = end - pos;

        if (l > 0 && raw[pos + l - 1] == '\r')
            l--;
        if (l == 0) {
            pos = end + 1;
            break;
        }
        if ((raw[pos] == ' ' || raw[pos] == '\t') && in_hdr) {
            head[hlen++] = '\n';
        } else {
            if (in_hdr)
                add_header(m, head + hstart, hlen - hstart, &cap);
            hstart = hlen;
            in_hdr = 1;
        }
        memcpy(head + hlen, raw + pos, l);
        hlen += l;
        pos = end + 1;
    }
    if (in_hdr)
        add_header(m, head + hstart, hlen - hstart, &cap);
    free(head);
    m->body = xmalloc(pos < len ? 2 * (len - pos) + 2 : 1);
    m->bodylen = 0;
    while (pos < len) {
        const char *nl = memchr(raw + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - raw) : len, l = end - pos;

        if (l > 0 && raw[pos + l - 1] == '\r')
            l--;
        memcpy(m->body + m->bodylen, raw + pos, l);
        m->bodylen += l;
        if (nl != NULL) {
            memcpy(m->body + m->bodylen, "\r\n", 2);
            m->bodylen += 2;
        }
        pos = end + 1;
    }
}

static int
load_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *raw;
    struct msg *m;

    if (f == NULL || fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
        if (f != NULL)
            fclose(f);
        fprintf(stderr, "milter-load: cannot read %s\n", path);
        return -1;
    }
    raw = xmalloc((size_t)st.st_size);
    if (fread(raw, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        fclose(f);
        free(raw);
        fprintf(stderr, "milter-load: short read on %s\n", path);
        return -1;
    }
    fclose(f);
    msgs = realloc(msgs, (nmsgs + 1) * sizeof(*msgs));
    if (msgs == NULL)
        exit(71);
    m = &msgs[nmsgs++];
    memset(m, 0, sizeof(*m));
    m->name = strdup(path);
    parse_msg(m, raw, (size_t)st.st_size);
    free(raw);
    return 0;
}

static int
load_path(const char *path)
{
    struct stat st;
    struct dirent **list;
    int n, rc = 0;

    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
        return load_file(path);
    n = scandir(path, &list, NULL, alphasort);
    if (n < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(list[i]->d_name);
        char full[4096];

        if (l > 4 && strcmp(list[i]->d_name + l - 4, ".eml") == 0 &&
            (size_t)snprintf(full, sizeof(full), "%s/%s", path, list[i]->d_name) < sizeof(full) &&
            load_file(full) < 0)
            rc = -1;
        free(list[i]);
    }
    free(list);
    return rc;
}

/* ---- wire ---- */

static int
connect_target(const char *t)
{
    const char *colon = strrchr(t, ':');
    int fd, one = 1;

    if (t[0] == '/') {
        struct sockaddr_un su;

        memset(&su, 0, sizeof(su));
        su.sun_family = AF_UNIX;
        if (strlen(t) >= sizeof(su.sun_path))
            return -1;
        strcpy(su.sun_path, t);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&su, sizeof(su)) < 0) {
            close(fd);
            return -1;
        }
        return fd;
    }
    {
        struct addrinfo hints, *res;
        char host[256];

        if (colon == NULL || (size_t)(colon - t) >= sizeof(host))
            return -1;
        memcpy(host, t, (size_t)(colon - t));
        host[colon - t] = '\0';
        memset(&hints, 0, sizeof(hints));
        hints.ai_socktype = SOCK_STREAM;
        if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
            return -1;
        fd = socket(res->ai_family, SOCK_STREAM, 0);
        if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
            close(fd);
            fd = -1;
        }
        freeaddrinfo(res);
    }
    if (fd >= 0)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static int
write_all(int fd, const void *p, size_t n)
{
    const char *c = p;

    while (n > 0) {
        ssize_t w = write(fd, c, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int
read_all(int fd, void *p, size_t n)
{
    char *c = p;

    while (n > 0) {
        ssize_t r = read(fd, c, n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

/* One frame: 4-byte length, command, data given as parts (each NUL-terminated if z). */
static int
send_cmd(int fd, char cmd, const char *data, size_t len)
{
    unsigned char hdr[5];
    uint32_t n = htonl((uint32_t)len + 1);

    memcpy(hdr, &n, 4);
    hdr[4] = (unsigned char)cmd;
    if (len > 0 && len < 16384) { /* one write, as the MTA does for small frames */
        char buf[16384 + 5];

        memcpy(buf, hdr, 5);
        memcpy(buf + 5, data, len);
        return write_all(fd, buf, len + 5);
    }
    return write_all(fd, hdr, 5) < 0 || (len > 0 && write_all(fd, data, len) < 0) ? -1 : 0;
}

/* Build "a\0b\0..." from NULL-terminated strings into buf; its length, or 0 if too long. */
static size_t
zjoin(char *buf, size_t cap, const char *const *parts)
{
    size_t n = 0;

    for (; *parts != NULL; parts++) {
        size_t l = strlen(*parts) + 1;

        if (n + l > cap)
            return 0;
        memcpy(buf + n, *parts, l);
        n += l;
    }
    return n;
}

static int
send_z(int fd, char cmd, const char *prefix, size_t plen, const char *const *parts)
{
    char buf[8192];
    size_t n;

    memcpy(buf, prefix, plen);
    n = zjoin(buf + plen, sizeof(buf) - plen, parts);
    return n == 0 ? -1 : send_cmd(fd, cmd, buf, plen + n);
}

/* Read one reply frame into *buf (grown as needed); its command, or -1. */
static int
recv_frame(int fd, char **buf, size_t *cap, size_t *len)
{
    uint32_t n;
    char cmd;

    if (read_all(fd, &n, 4) < 0)
        return -1;
    n = ntohl(n);
    if (n < 1 || n > MAXFRAME || read_all(fd, &cmd, 1) < 0)
        return -1;
    *len = n - 1;
    if (*len + 1 > *cap) {
        *cap = *len + 1;
        *buf = realloc(*buf, *cap);
        if (*buf == NULL)
            exit(71);
    }
    if (*len > 0 && read_all(fd, *buf, *len) < 0)
        return -1;
    (*buf)[*len] = '\0';
    return (unsigned char)cmd;
}

/* ---- one session ---- */

enum verdict { V_CONT, V_ACCEPT, V_REJECT, V_TEMPFAIL, V_DISCARD, V_SKIP, V_ERROR };

struct session {
    int fd;
    uint32_t proto; /* what the milter chose */
    char *buf;
    size_t cap, len;
    int matched;
};

/* Wait for the reply to a command; modifications and progress are read past. Unless -D,
 * every frame is acknowledged at once (TCP_QUICKACK): libmilter sets no TCP_NODELAY, so a
 * reply written after a modification (two writes) waits for our ACK, which Linux delays by
 * 40 ms; that timer would be measured instead of the milter. */
static enum verdict
reply(struct session *s)
{
    int one = 1;

    for (;;) {
        int c;

        if (!o.delayed_ack)
            setsockopt(s->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
        c = recv_frame(s->fd, &s->buf, &s->cap, &s->len);

        switch (c) {
        case 'c':
            return V_CONT;
        case 'a':
            return V_ACCEPT;
        case 'r':
            return V_REJECT;
        case 't':
            return V_TEMPFAIL;
        case 'd':
            return V_DISCARD;
        case 's':
            return V_SKIP;
        case 'y':
            return s->len > 0 && s->buf[0] == '4' ? V_TEMPFAIL : V_REJECT;
        case 'p':
            continue;
        case 'h':
        case 'i':
        case 'm':
        case 'b':
        case '+':
        case '-':
        case 'e':
        case 'f':
        case '2':
        case 'q':
            if (o.match != NULL) {
                for (size_t k = 0; k + strlen(o.match) <= s->len; k++)
                    if (memcmp(s->buf + k, o.match, strlen(o.match)) == 0) {
                        s->matched = 1;
                        break;
                    }
            }
            continue;
        default:
            return V_ERROR;
        }
    }
}

/* Send a command and, unless the milter asked for no reply (nr), wait for it. */
static enum verdict
step(struct session *s, char cmd, const char *data, size_t len, uint32_t nr)
{
    if (send_cmd(s->fd, cmd, data, len) < 0)
        return V_ERROR;
    return (s->proto & nr) ? V_CONT : reply(s);
}

static enum verdict
step_z(struct session *s, char cmd, const char *const *parts, uint32_t nr)
{
    char buf[8192];
    size_t n = zjoin(buf, sizeof(buf), parts);

    return n == 0 ? V_ERROR : step(s, cmd, buf, n, nr);
}

static int
macro(struct session *s, char stage, const char *const *pairs)
{
    return send_z(s->fd, 'D', &stage, 1, pairs);
}

/* Negotiate and send connect and helo: V_CONT when the session can take a message. */
static enum verdict
open_session(struct session *s, const char *target)
{
    uint32_t offer[3] = {htonl(6), htonl(0x1ff), htonl((uint32_t)o.offer)};
    char addr_data[512];
    int family = strchr(o.client_addr, ':') ? '6' : '4';
    uint16_t port = htons(25);
    size_t n;
    enum verdict v;

    s->fd = connect_target(target);
    if (s->fd < 0 || send_cmd(s->fd, 'O', (const char *)offer, sizeof(offer)) < 0 ||
        recv_frame(s->fd, &s->buf, &s->cap, &s->len) != 'O' || s->len < 12)
        return V_ERROR;
    memcpy(&s->proto, s->buf + 8, 4);
    s->proto = ntohl(s->proto);
    if (macro(s, 'C',
              (const char *const[]){"j", "mx.world.test", "{daemon_name}", "smtpd", "_",
                                    "client.example [192.0.2.1]", "{client_addr}", o.client_addr,
                                    "{client_name}", "client.example", NULL}) < 0)
        return V_ERROR;
    if (!(s->proto & P_NOCONNECT)) {
        n = zjoin(addr_data, sizeof(addr_data), (const char *const[]){"client.example", NULL});
        addr_data[n++] = (char)family;
        memcpy(addr_data + n, &port, 2);
        n += 2;
        n +=
            zjoin(addr_data + n, sizeof(addr_data) - n, (const char *const[]){o.client_addr, NULL});
        if ((v = step(s, 'C', addr_data, n, P_NR_CONN)) != V_CONT)
            return v;
    }
    if (macro(s, 'H', (const char *const[]){"{tls_version}", "TLSv1.3", NULL}) < 0)
        return V_ERROR;
    if (!(s->proto & P_NOHELO))
        return step_z(s, 'H', (const char *const[]){o.helo, NULL}, P_NR_HELO);
    return V_CONT;
}

/* One message over an open session; its final verdict. */
static enum verdict
send_message(struct session *s, const struct msg *m, unsigned long id)
{
    char from[512], rcpt[512], qid[32];
    enum verdict v;

    snprintf(from, sizeof(from), "<%s>", o.from);
    snprintf(rcpt, sizeof(rcpt), "<%s>", o.rcpt);
    snprintf(qid, sizeof(qid), "%lX", id);
    s->matched = 0;
    if (macro(s, 'M', (const char *const[]){"i", qid, "{mail_addr}", o.from, NULL}) < 0)
        return V_ERROR;
    if (!(s->proto & P_NOMAIL) &&
        (v = step_z(s, 'M', (const char *const[]){from, NULL}, P_NR_MAIL)) != V_CONT)
        return v;
    if (macro(s, 'R', (const char *const[]){"{rcpt_addr}", o.rcpt, NULL}) < 0)
        return V_ERROR;
    if (!(s->proto & P_NORCPT) &&
        (v = step_z(s, 'R', (const char *const[]){rcpt, NULL}, P_NR_RCPT)) != V_CONT)
        return v;
    for (size_t h = 0; h < m->nhdr && !(s->proto & P_NOHDRS); h++) {
        v = step_z(s, 'L', (const char *const[]){m->hdr_name[h], m->hdr_value[h], NULL}, P_NR_HDR);
        if (v != V_CONT)
            return v;
    }
    if (!(s->proto & P_NOEOH) && (v = step(s, 'N', NULL, 0, P_NR_EOH)) != V_CONT)
        return v;
    for (size_t off = 0; off < m->bodylen && !(s->proto & P_NOBODY);) {
        size_t l = m->bodylen - off < o.chunk ? m->bodylen - off : o.chunk;

        v = step(s, 'B', m->body + off, l, P_NR_BODY);
        if (v == V_SKIP)
            break;
        if (v != V_CONT)
            return v;
        off += l;
    }
    if (macro(s, 'E', (const char *const[]){"i", qid, NULL}) < 0 ||
        send_cmd(s->fd, 'E', NULL, 0) < 0)
        return V_ERROR;
    return reply(s);
}

/* ---- workers ---- */

/* The next message to send, or NULL when time or the count is up. */
static const struct msg *
take(unsigned long *id)
{
    const struct msg *m = NULL;

    pthread_mutex_lock(&lock);
    if ((o.total == 0 || started < o.total) && now() < deadline) {
        m = &msgs[next_msg];
        next_msg = (next_msg + 1) % nmsgs;
        *id = (unsigned long)++started;
    }
    pthread_mutex_unlock(&lock);
    return m;
}

static void
record(struct worker *w, double t, enum verdict v, int matched)
{
    if (w->nlat == w->caplat) {
        w->caplat = w->caplat ? w->caplat * 2 : 1024;
        w->lat = realloc(w->lat, w->caplat * sizeof(double));
        if (w->lat == NULL)
            exit(71);
    }
    w->lat[w->nlat++] = t;
    if (v == V_CONT || v == V_ACCEPT || v == V_SKIP)
        w->accept++;
    else if (v == V_REJECT)
        w->reject++;
    else if (v == V_TEMPFAIL)
        w->tempfail++;
    else if (v == V_DISCARD)
        w->discard++;
    w->matched += (unsigned long)matched;
}

static void
quit(struct session *s)
{
    if (s->fd >= 0) {
        send_cmd(s->fd, 'Q', NULL, 0);
        close(s->fd);
    }
    s->fd = -1;
}

/* A message through each milter in turn (the way Postfix chains them): the first verdict
 * that is not "continue" ends it. */
static enum verdict
through_all(struct session *s, struct worker *w, const struct msg *m, unsigned long id,
            int *matched)
{
    enum verdict v = V_CONT;

    *matched = 0;
    for (int t = 0; t < o.ntargets && (v == V_CONT || v == V_ACCEPT || v == V_SKIP); t++) {
        if (s[t].fd < 0) {
            w->connects++;
            v = open_session(&s[t], o.targets[t]);
            if (v != V_CONT)
                return v;
        }
        v = send_message(&s[t], m, id);
        *matched |= s[t].matched;
    }
    return v;
}

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    struct session s[4];
    const struct msg *m;
    unsigned long id;

    memset(s, 0, sizeof(s));
    for (int t = 0; t < 4; t++)
        s[t].fd = -1;
    while ((m = take(&id)) != NULL) {
        double t0 = now();
        int matched;
        enum verdict v = through_all(s, w, m, id, &matched);

        if (v == V_ERROR) {
            w->errors++;
            for (int t = 0; t < o.ntargets; t++) {
                if (s[t].fd >= 0)
                    close(s[t].fd);
                s[t].fd = -1;
            }
            usleep(10000); /* a refusing milter must not turn this into a busy loop */
            continue;
        }
        record(w, now() - t0, v, matched);
        /* Quit after -k messages or a refusal; else the next MAIL on the same sessions. */
        if (o.per_conn <= 1 || w->nlat % (unsigned long)o.per_conn == 0 || v == V_REJECT ||
            v == V_TEMPFAIL || v == V_DISCARD)
            for (int t = 0; t < o.ntargets; t++)
                quit(&s[t]);
    }
    for (int t = 0; t < 4; t++) {
        quit(&s[t]);
        free(s[t].buf);
    }
    return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double
pct(const double *v, size_t n, double p)
{
    size_t i;

    if (n == 0)
        return 0;
    i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

static void
usage(void)
{
    fprintf(
        stderr,
        "usage: milter-load [-D] [-c CONNS] [-t SECONDS] [-n MESSAGES] [-k PER-CONN] [-b CHUNK]\n"
        "         [-a CLIENT-ADDR] [-H HELO] [-f FROM] [-r RCPT] [-m MATCH] [-P HEX]\n"
        "         TARGET[,TARGET...] EML-DIR|FILE...   (TARGET: HOST:PORT or /unix/socket)\n");
    exit(64);
}

static void
parse_args(int argc, char **argv)
{
    int ch;

    while ((ch = getopt(argc, argv, "a:b:c:Df:H:k:m:n:P:r:t:")) != -1) {
        switch (ch) {
        case 'a':
            o.client_addr = optarg;
            break;
        case 'b':
            o.chunk = (size_t)strtoul(optarg, NULL, 10);
            break;
        case 'c':
            o.conns = atoi(optarg);
            break;
        case 'D':
            o.delayed_ack = 1;
            break;
        case 'f':
            o.from = optarg;
            break;
        case 'H':
            o.helo = optarg;
            break;
        case 'k':
            o.per_conn = atoi(optarg);
            break;
        case 'm':
            o.match = optarg;
            break;
        case 'n':
            o.total = atol(optarg);
            break;
        case 'P':
            o.offer = strtoul(optarg, NULL, 16);
            break;
        case 'r':
            o.rcpt = optarg;
            break;
        case 't':
            o.seconds = atoi(optarg);
            break;
        default:
            usage();
        }
    }
    if (argc - optind < 2 || o.conns < 1 || o.conns > 10000 || o.seconds < 1 || o.per_conn < 1 ||
        o.chunk < 1 || o.chunk > 65535 || o.total < 0)
        usage();
    for (char *t = strtok(argv[optind], ","); t != NULL; t = strtok(NULL, ","))
        if (o.ntargets < 4)
            o.targets[o.ntargets++] = t;
    for (int i = optind + 1; i < argc; i++)
        if (load_path(argv[i]) < 0)
            exit(66);
    if (nmsgs == 0) {
        fprintf(stderr, "milter-load: no messages (.eml files) found\n");
        exit(66);
    }
}

int
main(int argc, char **argv)
{
    struct worker *w;
    double start, took, *all;
    size_t n = 0;
    unsigned long acc = 0, rej = 0, tmp = 0, dis = 0, err = 0, mat = 0, con = 0;

    parse_args(argc, argv);
    w = calloc((size_t)o.conns, sizeof(*w));
    if (w == NULL)
        return 71;
    start = now();
    deadline = start + o.seconds;
    for (int i = 0; i < o.conns; i++)
        if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) != 0) {
            fprintf(stderr, "milter-load: cannot start thread %d\n", i);
            return 71;
        }
    for (int i = 0; i < o.conns; i++) {
        pthread_join(w[i].tid, NULL);
        n += w[i].nlat;
    }
    took = now() - start;
    all = xmalloc(n * sizeof(double));
    n = 0;
    for (int i = 0; i < o.conns; i++) {
        memcpy(all + n, w[i].lat, w[i].nlat * sizeof(double));
        n += w[i].nlat;
        acc += w[i].accept, rej += w[i].reject, tmp += w[i].tempfail, dis += w[i].discard;
        err += w[i].errors, mat += w[i].matched, con += w[i].connects;
        free(w[i].lat);
    }
    qsort(all, n, sizeof(double), cmp_double);
    printf("messages=%zu seconds=%.2f rate=%.1f/s p50=%.3fms p90=%.3fms p99=%.3fms max=%.3fms "
           "accepted=%lu rejected=%lu tempfailed=%lu discarded=%lu errors=%lu connections=%lu",
           n, took, (double)n / took, pct(all, n, 50) * 1e3, pct(all, n, 90) * 1e3,
           pct(all, n, 99) * 1e3, n ? all[n - 1] * 1e3 : 0.0, acc, rej, tmp, dis, err, con);
    if (o.match != NULL)
        printf(" matched=%lu", mat);
    printf(" client_cpu=%.1fus\n", cpu_seconds() * 1e6 / (double)(n ? n : 1));
    free(all);
    free(w);
    return err > 0 && n == 0 ? 69 : 0;
}
