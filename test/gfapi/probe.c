/* probe.c: a gfapi client for glujs's tests. It loads a client volfile (glujs
 * translators included) into this process with libgfapi, runs the commands
 * given, and tears the graph down with glfs_fini; ROUNDS > 1 does it all again
 * in the same process, as long-lived gfapi users (qemu, Samba) do.
 *
 *   probe VOLFILE LOGFILE ROUNDS CMD...
 *   VOLFILE: a path (/...: glfs_set_volfile), or HOST:VOLUME: the volume's
 *            volfile fetched from glusterd on HOST:24007 (glfs_set_volfile_server)
 *   CMD: write:PATH:TEXT  read:PATH  stat:PATH  list:DIR  mkdir:PATH  unlink:PATH
 *
 * One line per step on stdout: "init 0", "<cmd> <result>" (ok, an errno name,
 * the text read, or a directory's names joined by ','), "fini 0". */
#include <glusterfs/api/glfs.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *
err(void)
{
    const char *n = strerrorname_np(errno);
    return n ? n : "E?";
}

/* Splits "verb:path[:text]" in place. */
static int
parse(char *cmd, char **path, char **text)
{
    char *c = strchr(cmd, ':');
    if (!c)
        return -1;
    *c = 0;
    *path = c + 1;
    *text = NULL;
    if (!strcmp(cmd, "write")) {
        char *t = strchr(*path, ':');
        if (!t)
            return -1;
        *t = 0;
        *text = t + 1;
    }
    return 0;
}

static void
run(glfs_t *fs, const char *arg)
{
    char cmd[4096], *path, *text;
    if (strlen(arg) >= sizeof(cmd) || (strcpy(cmd, arg), parse(cmd, &path, &text)) != 0) {
        printf("%s EINVAL\n", arg);
        return;
    }
    printf("%s ", arg);
    if (!strcmp(cmd, "write")) {
        glfs_fd_t *fd = glfs_creat(fs, path, O_WRONLY | O_TRUNC, 0644);
        size_t n = strlen(text);
        if (!fd)
            printf("%s\n", err());
        else if (glfs_write(fd, text, n, 0) != (ssize_t)n)
            printf("%s\n", err()), glfs_close(fd);
        else
            printf("%s\n", glfs_close(fd) == 0 ? "ok" : err());
    } else if (!strcmp(cmd, "read")) {
        char buf[4096];
        glfs_fd_t *fd = glfs_open(fs, path, O_RDONLY);
        ssize_t n = fd ? glfs_read(fd, buf, sizeof(buf) - 1, 0) : -1;
        if (n < 0)
            printf("%s\n", err());
        else
            buf[n] = 0, printf("%s\n", buf);
        if (fd)
            glfs_close(fd);
    } else if (!strcmp(cmd, "stat")) {
        struct stat st;
        printf("%s\n", glfs_lstat(fs, path, &st) == 0 ? "ok" : err());
    } else if (!strcmp(cmd, "mkdir")) {
        printf("%s\n", glfs_mkdir(fs, path, 0755) == 0 ? "ok" : err());
    } else if (!strcmp(cmd, "unlink")) {
        printf("%s\n", glfs_unlink(fs, path) == 0 ? "ok" : err());
    } else if (!strcmp(cmd, "list")) {
        glfs_fd_t *fd = glfs_opendir(fs, path);
        struct dirent *e;
        int first = 1;
        if (!fd) {
            printf("%s\n", err());
            return;
        }
        while ((e = glfs_readdir(fd)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            printf("%s%s", first ? "" : ",", e->d_name);
            first = 0;
        }
        printf("\n");
        glfs_closedir(fd);
    } else {
        printf("EINVAL\n");
    }
}

/* A glfs_t for VOLFILE (see the top of this file), NULL on failure. */
static glfs_t *
open_volume(const char *volfile)
{
    char spec[1024], *volume;
    glfs_t *fs;
    if (volfile[0] == '/') {
        fs = glfs_new("glujs-gfapi");
        return fs && glfs_set_volfile(fs, volfile) == 0 ? fs : NULL;
    }
    if (strlen(volfile) >= sizeof(spec) || !(volume = strchr(strcpy(spec, volfile), ':')))
        return errno = EINVAL, NULL;
    *volume++ = 0;
    fs = glfs_new(volume); /* the volume name is the volfile id glusterd serves */
    return fs && glfs_set_volfile_server(fs, "tcp", spec, 24007) == 0 ? fs : NULL;
}

int
main(int argc, char **argv)
{
    int rounds;
    if (argc < 4 || (rounds = atoi(argv[3])) < 1) {
        fprintf(stderr, "usage: probe VOLFILE LOGFILE ROUNDS CMD...\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int r = 0; r < rounds; r++) {
        glfs_t *fs = open_volume(argv[1]);
        if (!fs || glfs_set_logging(fs, argv[2], 7) != 0) {
            printf("new %s\n", err());
            return 1;
        }
        int ret = glfs_init(fs);
        printf("init %d\n", ret);
        if (ret != 0) {
            glfs_fini(fs);
            return 1;
        }
        for (int i = 4; i < argc; i++)
            run(fs, argv[i]);
        printf("fini %d\n", glfs_fini(fs));
    }
    return 0;
}
