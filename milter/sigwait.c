/*
 * sigwait.c - keep libmilter's signal thread away from SIGHUP.
 *
 * smfi_main() starts a thread that sigwait()s for SIGHUP, SIGTERM and
 * SIGINT and stops the filter on any of them: no reload, no drain. The main
 * thread (main.c) handles those signals itself, with them unblocked, and
 * Linux gives a process-directed signal to the main thread when it can take
 * it. It cannot while its handler runs (the signal is blocked then), and a
 * second SIGHUP arriving in that moment went to the only other thread with
 * it unblocked: libmilter's, inside sigwait(). A burst of SIGHUPs stopped
 * the filter that way.
 *
 * This definition takes the place of the C library's for libmilter (the
 * program's own symbols come first in the lookup order). mailward-milter
 * calls sigwait() nowhere else, and neither do the libraries it loads. It
 * parks the calling thread for good with every signal blocked, so no thread
 * but the main one ever takes SIGHUP, SIGTERM or SIGINT; a signal that
 * arrives while the main thread's handler runs stays pending until the
 * handler returns, and is then the main thread's too.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

int
sigwait(const sigset_t *set, int *sig)
{
    sigset_t all;

    (void)set;
    (void)sig;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    for (;;)
        pause();
}
