#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int mkdirs_once(const char *dir)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* Another thread may remove an empty parent (a finished download tidies
 * an empty .haul-tmp) between our mkdir of it and of its child: ENOENT
 * then means "again", a few times. */
int fs_mkdirs(const char *dir)
{
    int rc = -1;
    for (int i = 0; i < 5; i++) {
        rc = mkdirs_once(dir);
        if (rc == 0 || errno != ENOENT)
            break;
    }
    return rc;
}

int fs_write_atomic(const char *path, const void *data, size_t len)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            unlink(tmp);
            errno = e;
            return -1;
        }
        p += n;
        left -= (size_t)n;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}

char *fs_read_small(const char *path, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *buf = malloc(max + 1);
    if (!buf) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, buf + got, max + 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            close(fd);
            errno = e;
            return NULL;
        }
        if (n == 0)
            break;
        got += (size_t)n;
        if (got > max) {
            free(buf);
            close(fd);
            errno = EFBIG;
            return NULL;
        }
    }
    close(fd);
    buf[got] = '\0';
    return buf;
}

int fs_remove_flat_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) != 0 && errno != ENOENT)
            rc = -1;
    }
    closedir(d);
    if (rmdir(dir) != 0 && errno != ENOENT)
        rc = -1;
    return rc;
}

int64_t fs_size(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    return (int64_t)st.st_size;
}

char *fs_absolute(const char *path)
{
    char cwd[PATH_MAX];
    char joined[PATH_MAX * 2];
    if (path[0] == '/') {
        snprintf(joined, sizeof joined, "%s", path);
    } else {
        if (!getcwd(cwd, sizeof cwd))
            return NULL;
        snprintf(joined, sizeof joined, "%s/%s", cwd, path);
    }
    /* drop "." components and doubled slashes */
    char *out = malloc(strlen(joined) + 2);
    if (!out)
        return NULL;
    size_t o = 0;
    const char *p = joined;
    while (*p) {
        while (*p == '/')
            p++;
        const char *seg = p;
        while (*p && *p != '/')
            p++;
        size_t n = (size_t)(p - seg);
        if (n == 0 || (n == 1 && seg[0] == '.'))
            continue;
        out[o++] = '/';
        memcpy(out + o, seg, n);
        o += n;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    return out;
}

/* Deletes what fs_discard hid, then the parent when left empty. hidden
 * is modified. */
static void discard_now(char *hidden)
{
    struct stat st;
    if (lstat(hidden, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            fs_remove_flat_dir(hidden);
        else
            unlink(hidden);
    }
    char *slash = strrchr(hidden, '/');
    if (slash && slash != hidden) {
        *slash = '\0';
        rmdir(hidden); /* the parent, when nothing else is in it */
    }
}

/* The helper thread of fs_discard: owns and frees its argument. */
static void *discard_thread(void *arg)
{
    discard_now(arg);
    free(arg);
    return NULL;
}

int fs_discard(const char *path)
{
    static unsigned counter;
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    char hidden[PATH_MAX];
    if (snprintf(hidden, sizeof hidden, "%.*s.discard-%ld-%u", (int)dirlen, path,
                 (long)getpid(), __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED)) >=
        (int)sizeof hidden) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (rename(path, hidden) != 0)
        return errno == ENOENT ? 0 : -1;
    char *copy = strdup(hidden);
    pthread_attr_t attr;
    pthread_t t;
    if (copy && pthread_attr_init(&attr) == 0) {
        int ok = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
                 pthread_create(&t, &attr, discard_thread, copy) == 0;
        pthread_attr_destroy(&attr);
        if (ok)
            return 0;
    }
    free(copy);
    discard_now(hidden); /* no helper thread: do it here */
    return 0;
}
