/*
 * nodelay.c - no Nagle and no delayed ACKs on libmilter's TCP connections.
 *
 * Over an inet: milter socket both ends write the protocol in small pieces
 * and wait for each other, which is the case TCP's two latency savers get
 * wrong:
 *  - libmilter answers in several writes (each header change, then the
 *    verdict) and never sets TCP_NODELAY, so Nagle's algorithm holds each
 *    write after the first until the MTA has acknowledged the one before;
 *  - the MTA's writes that get no answer (Postfix's headers with
 *    SMFIP_NR_HDR, macro packets) are acknowledged by our kernel only when
 *    its delayed-ACK timer fires (40 ms on Linux), and the MTA's own Nagle
 *    holds its next write until then.
 * Through Postfix on 16 sessions, idle machine (bench/run-e2e.sh), that
 * capped mailward-milter (and opendkim, same library) near 170 messages/s
 * while Postfix alone did 550; TCP_NODELAY brought mailward to 277 and
 * TCP_QUICKACK after each read to 327.
 *
 * libmilter offers no hook for its sockets, so these definitions of
 * accept() and read() take the place of the C library's for libmilter (the
 * program's own symbols come first in the lookup order, as in sigwait.c).
 * accept() turns Nagle off on every TCP connection it accepts and marks
 * the descriptor; read() calls the C library's read() and, on a marked
 * descriptor that delivered data, asks for an immediate ACK (TCP_QUICKACK
 * is not sticky: the kernel returns to delayed ACKs by itself), once per
 * milter command: libmilter reads a command's 5-byte header (length, then
 * the command letter) and then its data, so a whole header announcing data
 * (length above 1) leaves the ACK to the data's read. Every other read in
 * the program only pays one bit test. A descriptor number
 * reused by something else keeps its mark at most until the next accept()
 * of that number; a setsockopt() on it then fails harmlessly.
 */
#include "config.h"

#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MW_NODELAY_FDS 65536 /* descriptors tracked; larger ones are left alone */

static atomic_uchar mw_milter_fd[MW_NODELAY_FDS / 8];
static ssize_t (*mw_libc_read)(int, void *, size_t);
static pthread_once_t mw_read_once = PTHREAD_ONCE_INIT;

/* The read(2) system call itself, should the C library's read() not be found. */
static ssize_t
mw_sys_read(int fd, void *buf, size_t n)
{
    return syscall(SYS_read, fd, buf, n);
}

static void
mw_read_resolve(void)
{
    mw_libc_read = (ssize_t(*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
    if (mw_libc_read == NULL)
        mw_libc_read = mw_sys_read;
}

static void
mw_milter_fd_mark(int fd, int on)
{
    unsigned char bit = (unsigned char)(1u << (fd % 8));

    if (fd < 0 || fd >= MW_NODELAY_FDS)
        return;
    if (on)
        atomic_fetch_or(&mw_milter_fd[fd / 8], bit);
    else
        atomic_fetch_and(&mw_milter_fd[fd / 8], (unsigned char)~bit);
}

/* A read of exactly one milter command header whose length says data follows. */
static int
mw_command_header_with_data(const void *buf, size_t n, ssize_t r)
{
    const unsigned char *p = buf;

    if (n != 5 || r != 5)
        return 0;
    return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]) > 1;
}

int
accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    int one = 1, s = accept4(fd, addr, len, 0);

    if (s >= 0)
        mw_milter_fd_mark(s, setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0);
    return s;
}

ssize_t
read(int fd, void *buf, size_t n)
{
    ssize_t r;
    int one = 1;

    pthread_once(&mw_read_once, mw_read_resolve);
    r = mw_libc_read(fd, buf, n);
    if (r > 0 && fd >= 0 && fd < MW_NODELAY_FDS &&
        (atomic_load_explicit(&mw_milter_fd[fd / 8], memory_order_relaxed) & (1u << (fd % 8))) &&
        !mw_command_header_with_data(buf, n, r))
        (void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
    return r;
}
