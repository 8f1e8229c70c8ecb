/* support.c: the bridge's calls that are about neither values nor ops: the
 * GlusterFS log, threads and time (bridge.h); and glue.h's hash table. */
#include "glue.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>


uint64_t
gj_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
gj_htab_grow(gj_htab_t *t, uint32_t first)
{
    uint32_t nb = t->nb ? t->nb * 2 : first;
    gj_hlink_t **b = calloc(nb, sizeof(*b));
    if (!b)
        return -1;
    for (uint32_t i = 0; i < t->nb; i++)
        for (gj_hlink_t *e = t->b[i], *next; e; e = next) {
            next = e->next;
            e->next = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
        }
    free(t->b);
    t->b = b;
    t->nb = nb;
    return 0;
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

void
gj_log(void *xl, int level, const char *msg)
{
    static const gf_loglevel_t map[] = {GF_LOG_ERROR, GF_LOG_WARNING, GF_LOG_INFO,
                                        GF_LOG_DEBUG, GF_LOG_TRACE};
    xlator_t *this = xl;
    gf_log(this ? this->name : "glujs", map[level < 0 || level > GJ_LOG_TRACE ? GJ_LOG_INFO : level], "%s", msg);
}

void
gj_thread_enter(void *xl)
{
    THIS = xl;
}
