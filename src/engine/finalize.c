/* finalize.c: see finalize.h. */
#include "engine/finalize.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fname.h"
#include "util/fs.h"
#include "util/json_file.h"

#define RECORD_NAME "finished.json"
#define RECORD_MAX (64 * 1024)

/* What the finishing thread needs and what it finds out. The loop does
 * not touch it while the thread runs. */
struct finalize {
    pthread_t thread;
    int pipe_rd, pipe_wr;
    struct event *ev;
    void (*done)(void *ud);
    void *ud;
    int fd;                      /* the data, closed by the thread */
    char part_path[PATH_MAX];
    char work_dir[PATH_MAX];
    char dir[PATH_MAX];
    char name[FNAME_MAX + 1];
    int overwrite, sync;
    int64_t expect_size;         /* -1: unknown */
    char sha256[65];             /* "" : none */
    char record_path[PATH_MAX];  /* finished.json: where the file went */
    int keep_work_dir;
    char result[PATH_MAX];       /* out: final path */
    haul_error_t err;            /* out */
};

void finalize_remove_work_dir(const char *work_dir)
{
    fs_remove_flat_dir(work_dir);
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", work_dir);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        rmdir(parent); /* fails, as it should, while other downloads use it */
    }
}

/* SHA-256 of the open file, as lowercase hex. Returns 0 or -1/errno. */
static int hash_file(int fd, char hex[65])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(ctx);
        errno = ENOMEM;
        return -1;
    }
    enum { CHUNK = 1 << 20 };
    char *buf = malloc(CHUNK);
    int rc = buf ? 0 : -1;
    off_t off = 0;
    while (rc == 0) {
        ssize_t n = pread(fd, buf, CHUNK, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = -1;
        if (n <= 0)
            break;
        if (!EVP_DigestUpdate(ctx, buf, (size_t)n))
            rc = -1;
        off += n;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (rc == 0 && !EVP_DigestFinal_ex(ctx, md, &mdlen))
        rc = -1;
    for (unsigned i = 0; rc == 0 && i < mdlen && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    free(buf);
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* Writes finished.json before a rename: the path the file is about to get,
 * and the part file's identity (a rename keeps the inode). After a crash
 * between the rename and the owner's record of it, direct_start finds the
 * file there and reports it done instead of downloading it again. */
static int note_target(const struct finalize *f, const struct stat *st, const char *path)
{
    json_t *o = json_pack("{s:s, s:I, s:I, s:I}", "path", path, "dev", (json_int_t)st->st_dev,
                          "ino", (json_int_t)st->st_ino, "size", (json_int_t)st->st_size);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    int rc = text ? fs_write_atomic(f->record_path, text, strlen(text)) : -1;
    free(text);
    return rc;
}

/* Moves src to dir/name without replacing anything: "name (1).ext" and so
 * on when taken, noting each target first (note_target). Writes the final
 * path into out. Returns 0 or -1/errno. */
static int rename_unique(const struct finalize *f, const struct stat *st, const char *src,
                         const char *dir, const char *name, char *out, size_t outsz)
{
    char cand[FNAME_MAX + 1];
    for (unsigned n = 0; n < 10000; n++) {
        if (n == 0)
            snprintf(cand, sizeof cand, "%s", name);
        else if (fname_numbered(name, n, cand, sizeof cand) != 0)
            break;
        if (snprintf(out, outsz, "%s/%s", dir, cand) >= (int)outsz) {
            errno = ENAMETOOLONG;
            return -1;
        }
        if (note_target(f, st, out) != 0)
            return -1;
        if (renameat2(AT_FDCWD, src, AT_FDCWD, out, RENAME_NOREPLACE) == 0)
            return 0;
        if (errno == EEXIST)
            continue;
        if (errno != EINVAL && errno != ENOSYS)
            return -1;
        /* no RENAME_NOREPLACE here: link() fails atomically on a clash too */
        if (link(src, out) == 0)
            return unlink(src) == 0 || errno == ENOENT ? 0 : -1;
        if (errno != EEXIST)
            return -1;
    }
    errno = EEXIST;
    return -1;
}

static void *finalize_thread(void *arg)
{
    struct finalize *f = arg;
    char hex[65];
    struct stat st;
    if (f->sync && fsync(f->fd) != 0) {
        herr_set(&f->err, "io_error", false, "saving %s to disk failed: %s",
                 f->part_path, strerror(errno));
    } else if (fstat(f->fd, &st) != 0) {
        herr_set(&f->err, "io_error", false, "cannot read %s: %s", f->part_path,
                 strerror(errno));
    } else if (f->expect_size >= 0 && st.st_size != f->expect_size) {
        herr_set(&f->err, "size_mismatch", true,
                 "the download has %lld bytes but the server announced %lld",
                 (long long)st.st_size, (long long)f->expect_size);
    } else if (f->sha256[0] && hash_file(f->fd, hex) != 0) {
        herr_set(&f->err, "io_error", false, "cannot read %s to check it: %s",
                 f->part_path, strerror(errno));
    } else if (f->sha256[0] && strcasecmp(hex, f->sha256) != 0) {
        herr_set(&f->err, "checksum_mismatch", false,
                 "the downloaded file's SHA-256 is %s, not the expected %s: the "
                 "file was discarded; check the checksum or the URL",
                 hex, f->sha256);
    }
    close(f->fd);
    f->fd = -1;
    if (!herr_isset(&f->err)) {
        int rc;
        if (f->overwrite) {
            rc = -1;
            errno = ENAMETOOLONG;
            if (snprintf(f->result, sizeof f->result, "%s/%s", f->dir, f->name) <
                    (int)sizeof f->result &&
                (rc = note_target(f, &st, f->result)) == 0)
                rc = rename(f->part_path, f->result);
        } else {
            rc = rename_unique(f, &st, f->part_path, f->dir, f->name, f->result,
                               sizeof f->result);
        }
        if (rc != 0) {
            herr_set(&f->err, errno == ENOSPC ? "disk_full" : "io_error", false,
                     "cannot move the finished file into %s: %s", f->dir,
                     strerror(errno));
        } else if (f->sync) {
            int dfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) {
                fsync(dfd);
                close(dfd);
            }
        }
    }
    if (herr_isset(&f->err))
        unlink(f->record_path); /* nothing was moved */
    if ((!herr_isset(&f->err) && !f->keep_work_dir) ||
        (herr_isset(&f->err) && strcmp(f->err.code, "checksum_mismatch") == 0)) {
        /* done, or the bytes are wrong: nothing here is worth keeping */
        finalize_remove_work_dir(f->work_dir);
    }
    char byte = 1;
    while (write(f->pipe_wr, &byte, 1) < 0 && errno == EINTR)
        ;
    return NULL;
}

static void on_thread_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    finalize_t *f = arg;
    f->done(f->ud);
}

finalize_t *finalize_start(struct event_base *base, const finalize_opts_t *o,
                           void (*done)(void *ud), void *ud, haul_error_t *err)
{
    finalize_t *f = calloc(1, sizeof *f);
    int fds[2];
    if (!f || pipe2(fds, O_CLOEXEC) != 0) {
        free(f);
        herr_set(err, "out_of_resources", true, "cannot finish %s: %s", o->part_path,
                 strerror(errno));
        return NULL;
    }
    f->pipe_rd = fds[0];
    f->pipe_wr = fds[1];
    f->done = done;
    f->ud = ud;
    f->fd = o->fd;
    int ok = snprintf(f->part_path, sizeof f->part_path, "%s", o->part_path) <
                 (int)sizeof f->part_path &&
             snprintf(f->work_dir, sizeof f->work_dir, "%s", o->work_dir) <
                 (int)sizeof f->work_dir &&
             snprintf(f->record_path, sizeof f->record_path, "%s/" RECORD_NAME,
                      o->work_dir) < (int)sizeof f->record_path &&
             snprintf(f->dir, sizeof f->dir, "%s", o->dir) < (int)sizeof f->dir;
    snprintf(f->name, sizeof f->name, "%s", o->name && o->name[0] ? o->name : "download");
    f->keep_work_dir = o->keep_work_dir;
    f->overwrite = o->overwrite;
    f->sync = o->sync;
    f->expect_size = o->expect_size;
    snprintf(f->sha256, sizeof f->sha256, "%s", o->sha256 ? o->sha256 : "");
    herr_clear(&f->err);
    f->ev = ok ? event_new(base, f->pipe_rd, EV_READ, on_thread_done, f) : NULL;
    if (!f->ev || event_add(f->ev, NULL) != 0 ||
        pthread_create(&f->thread, NULL, finalize_thread, f) != 0) {
        if (f->ev)
            event_free(f->ev);
        close(fds[0]);
        close(fds[1]);
        free(f);
        herr_set(err, "out_of_resources", true, "cannot start finishing %s",
                 o->part_path);
        return NULL;
    }
    return f;
}

void finalize_reap(finalize_t *f, haul_error_t *err, char **result)
{
    pthread_join(f->thread, NULL);
    event_free(f->ev);
    close(f->pipe_rd);
    close(f->pipe_wr);
    *err = f->err;
    *result = herr_isset(&f->err) ? NULL : strdup(f->result);
    if (!herr_isset(&f->err) && !*result)
        abort(); /* out of memory */
    free(f);
}

int finalize_found(const char *work_dir, const char *part_path, char **path, int64_t *size)
{
    struct stat st;
    if (stat(part_path, &st) == 0)
        return 0; /* a part file: the rename never happened */
    char record[PATH_MAX];
    if (snprintf(record, sizeof record, "%s/" RECORD_NAME, work_dir) >= (int)sizeof record)
        return 0;
    json_t *o = json_read_file(record, RECORD_MAX);
    const char *p = json_string_value(json_object_get(o, "path"));
    int same = p && stat(p, &st) == 0 &&
               (json_int_t)st.st_dev == json_integer_value(json_object_get(o, "dev")) &&
               (json_int_t)st.st_ino == json_integer_value(json_object_get(o, "ino")) &&
               (json_int_t)st.st_size == json_integer_value(json_object_get(o, "size"));
    if (same) {
        if (!(*path = strdup(p)))
            abort();
        *size = st.st_size;
    } else {
        unlink(record);
    }
    json_decref(o);
    return same;
}
