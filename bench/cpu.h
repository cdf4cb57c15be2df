/* cpu.h - the load clients' own CPU time, reported per message or request so that a
 * benchmark on a shared machine shows what the client itself costs. */
#ifndef MW_BENCH_CPU_H
#define MW_BENCH_CPU_H

#include <sys/resource.h>

/* User plus system CPU time of this process so far, in seconds. */
static inline double
cpu_seconds(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

#endif
