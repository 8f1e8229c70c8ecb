/* lockprobe.c: POSIX record locks (fcntl) for glujs's lock tests; Node has no
 * fcntl. Reads one command a line on stdin and answers one line on stdout, so a
 * test can hold a lock in one process while another process, on another
 * mount, tries to take it.
 *
 *   open PATH            open PATH read-write (creating it); the fd stays open
 *   wlock START LEN      F_SETLK F_WRLCK   -> "ok" or the errno name (EAGAIN ...)
 *   rlock START LEN      F_SETLK F_RDLCK
 *   wlockw START LEN     F_SETLKW F_WRLCK (waits)
 *   unlock START LEN     F_SETLK F_UNLCK
 *   test START LEN       F_GETLK F_WRLCK  -> "free" or "held pid=N"
 *   close                close the fd (drops its locks)
 *
 * EOF on stdin exits. Every answer is flushed at once. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *
errname(int e)
{
    const char *n = strerrorname_np(e);
    return n ? n : "E?";
}

static void
lock(int fd, int cmd, short type, long long start, long long len)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    if (fd < 0) {
        puts("EBADF");
        return;
    }
    if (fcntl(fd, cmd, &fl) != 0) {
        puts(errname(errno));
        return;
    }
    if (cmd == F_GETLK) {
        if (fl.l_type == F_UNLCK)
            puts("free");
        else
            printf("held pid=%d\n", (int)fl.l_pid);
        return;
    }
    puts("ok");
}

int
main(void)
{
    char line[4096], verb[16], arg[4000];
    int fd = -1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof(line), stdin)) {
        long long start = 0, len = 0;
        line[strcspn(line, "\n")] = 0;
        if (sscanf(line, "%15s %3999s", verb, arg) < 1)
            continue;
        if (!strcmp(verb, "open")) {
            if (fd >= 0)
                close(fd);
            fd = open(arg, O_RDWR | O_CREAT, 0644);
            puts(fd < 0 ? errname(errno) : "ok");
            continue;
        }
        if (!strcmp(verb, "close")) {
            puts(fd >= 0 && close(fd) == 0 ? "ok" : errname(errno));
            fd = -1;
            continue;
        }
        if (sscanf(line, "%*s %lld %lld", &start, &len) != 2) {
            puts("EINVAL");
            continue;
        }
        if (!strcmp(verb, "wlock"))
            lock(fd, F_SETLK, F_WRLCK, start, len);
        else if (!strcmp(verb, "rlock"))
            lock(fd, F_SETLK, F_RDLCK, start, len);
        else if (!strcmp(verb, "wlockw"))
            lock(fd, F_SETLKW, F_WRLCK, start, len);
        else if (!strcmp(verb, "unlock"))
            lock(fd, F_SETLK, F_UNLCK, start, len);
        else if (!strcmp(verb, "test"))
            lock(fd, F_GETLK, F_WRLCK, start, len);
        else
            puts("EINVAL");
    }
    return 0;
}
