/*
 * threads.c: time and threads for both sides of the bridge (bridge.h, [any]).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "../bridge.h"

uint64_t
gj_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
gj_thread_start(pthread_t *t, const char *name, void *(*fn)(void *), void *arg)
{
    /* The daemon's signal thread takes the asynchronous signals (SIGTERM,
     * SIGHUP, SIGUSR1 for a statedump); a fault stays deliverable, so that a
     * crash on a glujs thread still reaches GlusterFS's handler and its trace. */
    static const int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP};
    sigset_t block, old;
    int ret;
    sigfillset(&block);
    for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
        sigdelset(&block, faults[i]);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    ret = pthread_create(t, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (ret == 0 && name)
        pthread_setname_np(*t, name); /* at most 15 characters */
    return ret;
}
