/* fragments.c: an ordered fragment list to one file. See fragments.h.
 *
 * DESIGN
 * Each fragment has a state (todo, in flight, waiting to retry, finished
 * on disk, joined). A slot is one fragment in flight: its transfer, its
 * file and its cipher. fill() hands free slots the lowest fragments that
 * are due, so the output grows from the front and the files waiting to be
 * joined stay few. join() appends finished fragments to the output while
 * the next one in order is there, then records the new length.
 * Everything runs on the loop; files are written with plain write(), and
 * joining is copy_file_range() (page cache to page cache, no copy through
 * user space). */
#include "engine/fragments.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/progress.h"
#include "engine/classify.h"
#include "util/buf.h"
#include "util/fs.h"

#define DEFAULT_CONNECTIONS 4
#define MAX_CONNECTIONS 32
#define DEFAULT_ATTEMPTS 5
#define KEY_MAX 64 /* a key body longer than this is not a key */
#define RECORD_SLOT 128 /* bytes per copy of the record (two copies) */
/* A fragment arrives in memory up to this size, and goes to the output
 * with one write when it is the next one in order (most are): written
 * once, not to its own file and then again. Larger ones, and ones that
 * finish ahead of their turn, go to their own file. */
#define SLOT_MEM_MAX (16u * 1024 * 1024)

enum { F_TODO, F_FLIGHT, F_WAIT, F_FINISHED, F_JOINED };
enum { K_NONE, K_LOADING, K_WAIT, K_LOADED };
enum { L_IDLE, L_RUNNING, L_DONE, L_FAILED, L_PAUSED };

typedef struct frag_item {
    char *url;
    int64_t offset, length;
    int key;
    unsigned char iv[16];
    unsigned char state;
    unsigned char tries;
    double retry_at;       /* F_WAIT: mono time */
    int64_t size;          /* F_FINISHED / F_JOINED: bytes on disk */
} frag_item_t;

typedef struct key_item {
    char *url;
    int state;
    unsigned tries;
    double retry_at;
    unsigned char key[16];
    transfer_t *xfer;
    unsigned char buf[KEY_MAX];
    size_t len;
    frag_list_t *fl;
} key_item_t;

typedef struct slot {
    frag_list_t *fl;
    transfer_t *xfer;      /* NULL: free */
    size_t index;
    int fd;
    EVP_CIPHER_CTX *cipher;
    unsigned char *dec;    /* decryption buffer */
    size_t dec_cap;
    buf_t mem;             /* the fragment while it fits in SLOT_MEM_MAX */
    int64_t got;           /* bytes kept (in mem or the fragment file) */
    int64_t skip, take;    /* a range the server ignored: bytes to drop
                              before, and to keep (-1: all) */
    haul_error_t err;      /* set in a callback, used in on_done */
} slot_t;

struct frag_list {
    engine_t *eng;
    struct event_base *base;
    frag_list_end_fn on_end;
    void *ud;

    char *work_dir, *name;
    frag_item_t *frags;
    size_t nfrags;
    key_item_t *keys;
    size_t nkeys;
    size_t cap;            /* room in frags */
    unsigned max_attempts;
    int open_ended;        /* more fragments may come (a live recording):
                              all joined is not the end */
    int64_t rate;          /* the list's speed limit, bytes/s (0: none) */
    double run_start;      /* mono time of this start, for the limit */
    int64_t run_bytes;     /* bytes received since then */
    uint64_t fp;           /* fingerprint of frags [0, fp_n) */
    size_t fp_n;

    transfer_opts_t net;   /* owned copies of the strings */
    char **headers;

    slot_t *slots;
    unsigned nslots;

    int state;
    int out_fd;
    int state_fd;          /* the record, open while running */
    int64_t out_len;
    size_t joined;         /* fragments [0, joined) are in the output */
    size_t finished;       /* fragments finished or joined */
    int64_t finished_bytes;
    struct event *timer;   /* the earliest retry */
    int failing;           /* a fragment failed for good: the ones in
                              flight finish (and are kept), then the list
                              ends with fail_err */
    haul_error_t fail_err;
    char out_path[PATH_MAX];
    char state_path[PATH_MAX];
    haul_error_t err;
};

static void fill(frag_list_t *fl);

/* ---- paths and the record ------------------------------------------------ */

static int frag_path(const frag_list_t *fl, size_t i, int part, char *out, size_t n)
{
    return snprintf(out, n, "%s/%s.%zu%s", fl->work_dir, fl->name, i, part ? ".part" : "") <
                   (int)n
               ? 0
               : -1;
}

/* FNV-1a over what identifies the first n fragments: URLs and ranges. The
 * record holds it for the joined ones, so a list that only grew (a live
 * recording) still matches its record, and one that changed does not. */
#define FP_START 0xcbf29ce484222325ULL

static uint64_t fingerprint_step(uint64_t h, const frag_item_t *f)
{
    for (const char *p = f->url; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    h = (h ^ (uint64_t)f->offset) * 0x100000001b3ULL;
    return (h ^ (uint64_t)f->length) * 0x100000001b3ULL;
}

static uint64_t fingerprint(const frag_list_t *fl, size_t n)
{
    uint64_t h = FP_START;
    for (size_t i = 0; i < n; i++)
        h = fingerprint_step(h, &fl->frags[i]);
    return h;
}

/* The check of a record's fields (FNV-1a of their text). */
static uint64_t record_check(const char *fields)
{
    uint64_t h = FP_START;
    for (const char *p = fields; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    return h;
}

static int record_fields(char *out, size_t n, const char *fp, long long joined, long long bytes)
{
    return snprintf(out, n, "\"fingerprint\":\"%s\",\"joined\":%lld,\"bytes\":%lld", fp,
                    joined, bytes);
}

/* The record has two copies, RECORD_SLOT bytes each, written in turn in
 * place (one pwrite on a file kept open: no new file and rename per
 * fragment, which cost 10 % of a download's CPU and made ext4 write back
 * each replaced file). A copy cut short by a crash fails its check, and
 * the other one, one fragment older, is used. */
static int save_record(frag_list_t *fl)
{
    if (fl->fp_n > fl->joined) { /* went back (a new start): from scratch */
        fl->fp = FP_START;
        fl->fp_n = 0;
    }
    while (fl->fp_n < fl->joined) /* the prefix hash grows with the output */
        fl->fp = fingerprint_step(fl->fp, &fl->frags[fl->fp_n++]);
    if (fl->state_fd < 0 &&
        (fl->state_fd = open(fl->state_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
        return -1;
    char fp[17], fields[96], text[RECORD_SLOT + 1];
    snprintf(fp, sizeof fp, "%016llx", (unsigned long long)fl->fp);
    record_fields(fields, sizeof fields, fp, (long long)fl->joined, (long long)fl->out_len);
    int n = snprintf(text, sizeof text, "{%s,\"check\":\"%016llx\"}", fields,
                     (unsigned long long)record_check(fields));
    if (n < 0 || n >= RECORD_SLOT)
        return -1;
    memset(text + n, ' ', (size_t)(RECORD_SLOT - 1 - n));
    text[RECORD_SLOT - 1] = '\n';
    off_t at = (off_t)(fl->joined % 2) * RECORD_SLOT;
    return pwrite(fl->state_fd, text, RECORD_SLOT, at) == RECORD_SLOT ? 0 : -1;
}

static void close_files(frag_list_t *fl)
{
    if (fl->out_fd >= 0)
        close(fl->out_fd);
    if (fl->state_fd >= 0)
        close(fl->state_fd);
    fl->out_fd = fl->state_fd = -1;
}

/* The record, when it belongs to this list: *joined and *bytes. Returns
 * 0, 1 when there is none, -1 when it is another list's (or unreadable). */
static int load_record(frag_list_t *fl, size_t *joined, int64_t *bytes)
{
    int fd = open(fl->state_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 1 : -1;
    char buf[2 * RECORD_SLOT];
    ssize_t got = pread(fd, buf, sizeof buf, 0);
    close(fd);
    /* the newer of the copies that pass their check */
    char fp[17] = "";
    json_int_t j = -1, b = -1;
    for (ssize_t at = 0; at + RECORD_SLOT <= got; at += RECORD_SLOT) {
        json_error_t jerr;
        json_t *o = json_loadb(buf + at, RECORD_SLOT, 0, &jerr);
        const char *f = json_string_value(json_object_get(o, "fingerprint"));
        const char *check = json_string_value(json_object_get(o, "check"));
        json_int_t oj = json_integer_value(json_object_get(o, "joined"));
        json_int_t ob = json_integer_value(json_object_get(o, "bytes"));
        char fields[96], want[17];
        record_fields(fields, sizeof fields, f ? f : "", (long long)oj, (long long)ob);
        snprintf(want, sizeof want, "%016llx", (unsigned long long)record_check(fields));
        if (f && strlen(f) == 16 && check && strcmp(check, want) == 0 && oj > j) {
            memcpy(fp, f, 17);
            j = oj;
            b = ob;
        }
        json_decref(o);
    }
    int ok = fp[0] && j >= 0 && (size_t)j <= fl->nfrags && b >= 0;
    char have[17];
    if (ok)
        snprintf(have, sizeof have, "%016llx", (unsigned long long)fingerprint(fl, (size_t)j));
    if (!ok || strcmp(fp, have) != 0)
        return -1;
    *joined = (size_t)j;
    *bytes = b;
    return 0;
}

/* ---- the end ---------------------------------------------------------------- */

static void release_slot(slot_t *s, int keep_file);

static void stop_all(frag_list_t *fl)
{
    for (unsigned i = 0; i < fl->nslots; i++) {
        slot_t *s = &fl->slots[i];
        if (!s->xfer)
            continue;
        transfer_abort(s->xfer);
        release_slot(s, 0); /* what arrived is dropped */
        if (fl->frags[s->index].state == F_FLIGHT)
            fl->frags[s->index].state = F_TODO;
    }
    for (size_t k = 0; k < fl->nkeys; k++) {
        key_item_t *key = &fl->keys[k];
        if (key->xfer) {
            transfer_abort(key->xfer);
            key->xfer = NULL;
            key->state = K_NONE;
        }
    }
    evtimer_del(fl->timer);
}

static void end(frag_list_t *fl, const haul_error_t *err)
{
    stop_all(fl);
    close_files(fl);
    if (err) {
        fl->err = *err;
        fl->state = L_FAILED;
    } else {
        fl->state = L_DONE;
    }
    fl->on_end(fl->ud, err == NULL, err);
}

static int busy_slots(const frag_list_t *fl)
{
    int n = 0;
    for (unsigned i = 0; i < fl->nslots; i++)
        n += fl->slots[i].xfer != NULL;
    return n;
}

/* A failure for good: ends the list once the fragments in flight are in
 * (what they bring is kept for the next try). */
static void fail_soon(frag_list_t *fl, const haul_error_t *err)
{
    if (!fl->failing) {
        fl->failing = 1;
        fl->fail_err = *err;
    }
    if (busy_slots(fl) == 0)
        end(fl, &fl->fail_err);
}

static void io_failure(frag_list_t *fl, const char *doing, const char *path)
{
    haul_error_t e;
    herr_set(&e, errno == ENOSPC || errno == EDQUOT ? "disk_full" : "io_error",
             errno == ENOSPC || errno == EDQUOT, "cannot %s %s: %s%s", doing, path,
             strerror(errno),
             errno == ENOSPC || errno == EDQUOT ? " (free some space, then resume)" : "");
    end(fl, &e);
}

/* ---- joining ----------------------------------------------------------------- */

/* Appends the file at path to the output. Returns 0 or -1/errno. */
static int append_file(frag_list_t *fl, const char *path, int64_t *size)
{
    int in = open(path, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -1;
    int64_t total = 0;
    loff_t out_off = fl->out_len;
    int rc = 0;
    for (;;) {
        ssize_t n = copy_file_range(in, NULL, fl->out_fd, &out_off, 1 << 30, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
                      errno == EOPNOTSUPP)) {
            /* another file system or no support: copy through a buffer */
            char buf[1 << 16];
            ssize_t r;
            while ((r = pread(in, buf, sizeof buf, total)) > 0) {
                if (pwrite(fl->out_fd, buf, (size_t)r, fl->out_len + total) != r) {
                    if (errno == 0)
                        errno = EIO;
                    rc = -1;
                    break;
                }
                total += r;
            }
            if (r < 0)
                rc = -1;
            break;
        }
        if (n < 0) {
            rc = -1;
            break;
        }
        if (n == 0)
            break;
        total += n;
    }
    int saved = errno;
    close(in);
    errno = saved;
    if (rc == 0)
        *size = total;
    return rc;
}

/* The next fragment in order arrived in memory: one write to the output,
 * then the record. Returns 0, or -1 when the list has ended. */
static int append_memory(frag_list_t *fl, slot_t *s)
{
    const char *p = s->mem.data;
    size_t n = s->mem.len;
    int64_t off = fl->out_len;
    while (n > 0) {
        ssize_t w = pwrite(fl->out_fd, p, n, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            io_failure(fl, "write to", fl->out_path);
            return -1;
        }
        p += w;
        n -= (size_t)w;
        off += w;
    }
    fl->out_len = off;
    fl->frags[fl->joined].state = F_JOINED;
    fl->joined++;
    if (save_record(fl) != 0) {
        io_failure(fl, "write", fl->state_path);
        return -1;
    }
    return 0;
}

/* Appends the finished fragments that come next in order. Returns 0, or
 * -1 when the list has ended (an I/O failure). */
static int join(frag_list_t *fl)
{
    while (fl->joined < fl->nfrags && fl->frags[fl->joined].state == F_FINISHED) {
        char p[PATH_MAX];
        int64_t n = 0;
        if (frag_path(fl, fl->joined, 0, p, sizeof p) != 0 || append_file(fl, p, &n) != 0) {
            io_failure(fl, "append a fragment to", fl->out_path);
            return -1;
        }
        fl->out_len += n;
        fl->frags[fl->joined].state = F_JOINED;
        fl->joined++;
        /* the record first: a crash between the two leaves a fragment
         * file that is simply not used again */
        if (save_record(fl) != 0) {
            io_failure(fl, "write", fl->state_path);
            return -1;
        }
        unlink(p);
    }
    return 0;
}

/* ---- keys ---------------------------------------------------------------------- */

static int key_on_data(void *ud, const char *data, size_t len)
{
    key_item_t *k = ud;
    if (k->len + len > sizeof k->buf)
        return -1;
    memcpy(k->buf + k->len, data, len);
    k->len += len;
    return 0;
}

static void key_on_done(void *ud, CURLcode cc, long status, int aborted, const char *detail,
                        long retry_after_s)
{
    key_item_t *k = ud;
    frag_list_t *fl = k->fl;
    k->xfer = NULL;
    haul_error_t e;
    herr_clear(&e);
    if (aborted) {
        herr_set(&e, "hls_bad_key", false,
                 "the key at %s is longer than an AES-128 key (16 bytes): it is not a key",
                 k->url);
    } else {
        classify_result(cc, status, k->url, detail, &e);
        e.retry_after_s = retry_after_s;
        if (!herr_isset(&e) && k->len != 16)
            herr_set(&e, "hls_bad_key", false,
                     "the key at %s has %zu bytes, not 16: it is not an AES-128 key", k->url,
                     k->len);
    }
    if (!herr_isset(&e)) {
        memcpy(k->key, k->buf, 16);
        k->state = K_LOADED;
        fill(fl);
        return;
    }
    if (e.transient && ++k->tries < fl->max_attempts) {
        k->state = K_WAIT;
        k->retry_at = mono_now() + (double)backoff_delay_s(k->tries, e.retry_after_s);
        fill(fl);
        return;
    }
    herr_prefix(&e, "cannot fetch the decryption key: ");
    if (strcmp(e.code, "hls_bad_key") != 0)
        snprintf(e.code, sizeof e.code, "hls_key_failed");
    fail_soon(fl, &e);
}

/* Starts fetching key k. Returns 0, or -1 when the list has ended. */
static int key_fetch(frag_list_t *fl, key_item_t *k)
{
    transfer_opts_t o = fl->net;
    o.url = k->url;
    o.range_from = 0;
    o.range_length = 0;
    o.max_speed = 0;
    transfer_cbs_t cbs = {NULL, key_on_data, key_on_done}; /* key_on_done judges the status */
    k->len = 0;
    k->fl = fl;
    haul_error_t e;
    k->xfer = transfer_start(fl->eng, &o, &cbs, k, &e);
    if (!k->xfer) {
        end(fl, &e);
        return -1;
    }
    k->state = K_LOADING;
    return 0;
}

/* ---- one fragment ---------------------------------------------------------------- */

static void release_slot(slot_t *s, int keep_file)
{
    buf_clear(&s->mem);
    int had_file = s->fd >= 0;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    if (!keep_file && had_file) {
        char p[PATH_MAX];
        if (frag_path(s->fl, s->index, 1, p, sizeof p) == 0)
            unlink(p);
    }
    s->xfer = NULL;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Keeps data: in memory while it fits, else in the fragment's file.
 * Returns 0 or -1 with s->err set. */
static int slot_store(slot_t *s, const unsigned char *data, size_t len)
{
    if (s->fd < 0 && buf_add(&s->mem, data, len, SLOT_MEM_MAX) == 0)
        return 0;
    char p[PATH_MAX];
    if (s->fd < 0) { /* too big for memory: its own file from now on */
        if (frag_path(s->fl, s->index, 1, p, sizeof p) != 0 ||
            (s->fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 ||
            write_all(s->fd, (const unsigned char *)s->mem.data, s->mem.len) != 0)
            goto fail;
        buf_clear(&s->mem);
    }
    if (write_all(s->fd, data, len) == 0)
        return 0;
fail:;
    int disk = errno == ENOSPC || errno == EDQUOT;
    return herr_set(&s->err, disk ? "disk_full" : "io_error", disk,
                    "cannot write fragment %zu to %s: %s", s->index + 1, s->fl->work_dir,
                    strerror(errno));
}

/* Takes arriving bytes (decrypting when needed). Returns 0 or -1 with
 * s->err set. */
static int slot_write(slot_t *s, const unsigned char *data, size_t len)
{
    if (s->cipher) {
        size_t need = len + 16;
        if (need > s->dec_cap) {
            unsigned char *nb = realloc(s->dec, need);
            if (!nb)
                return herr_set(&s->err, "out_of_memory", true, "out of memory");
            s->dec = nb;
            s->dec_cap = need;
        }
        int outl = 0;
        if (!EVP_DecryptUpdate(s->cipher, s->dec, &outl, data, (int)len))
            return herr_set(&s->err, "hls_decrypt_failed", false,
                            "fragment %zu (%s) cannot be decrypted", s->index + 1,
                            s->fl->frags[s->index].url);
        data = s->dec;
        len = (size_t)outl;
    }
    if (len && slot_store(s, data, len) != 0)
        return -1;
    s->got += (int64_t)len;
    s->fl->run_bytes += (int64_t)len;
    return 0;
}

static int frag_on_response(void *ud, const transfer_response_t *r)
{
    slot_t *s = ud;
    const frag_item_t *f = &s->fl->frags[s->index];
    if (r->status >= 300 || r->status < 200)
        return 0; /* judged in frag_on_done from the status */
    s->skip = 0;
    s->take = -1;
    if (f->length > 0 && r->status == 200) { /* the range was ignored */
        s->skip = f->offset;
        s->take = f->length;
    }
    return 0;
}

static int frag_on_data(void *ud, const char *data, size_t len)
{
    slot_t *s = ud;
    const unsigned char *p = (const unsigned char *)data;
    if (s->skip > 0) {
        size_t drop = (int64_t)len < s->skip ? len : (size_t)s->skip;
        s->skip -= (int64_t)drop;
        p += drop;
        len -= drop;
    }
    if (s->take >= 0 && (int64_t)len > s->take)
        len = (size_t)s->take;
    if (len && slot_write(s, p, len) != 0)
        return -1;
    if (s->take >= 0) {
        s->take -= (int64_t)len;
        if (s->take == 0) {
            s->take = -2; /* complete: stop reading the rest */
            return -1;
        }
    }
    return 0;
}

/* Moves the finished fragment's file into place. Returns 0 or -1/err. */
static int slot_finish(slot_t *s)
{
    frag_list_t *fl = s->fl;
    if (s->cipher) {
        unsigned char last[32];
        int outl = 0;
        if (!EVP_DecryptFinal_ex(s->cipher, last, &outl))
            return herr_set(&s->err, "hls_decrypt_failed", false,
                            "fragment %zu (%s) does not decrypt with its key (wrong key or "
                            "a damaged fragment)",
                            s->index + 1, fl->frags[s->index].url);
        if (outl > 0) {
            if (slot_store(s, last, (size_t)outl) != 0)
                return -1;
            s->got += outl;
        }
    }
    const frag_item_t *f = &fl->frags[s->index];
    if (f->length > 0 && !s->cipher && s->got != f->length)
        return herr_set(&s->err, "short_body", true,
                        "fragment %zu (%s) has %lld bytes, not the %lld its range asks for",
                        s->index + 1, f->url, (long long)s->got, (long long)f->length);
    if (s->fd < 0 && s->index == fl->joined && fl->out_fd >= 0)
        return 0; /* in memory and next in order: join() writes it straight out */
    char from[PATH_MAX], to[PATH_MAX];
    if (s->fd < 0) { /* in memory, ahead of its turn: it goes to its file */
        if (frag_path(fl, s->index, 1, from, sizeof from) != 0 ||
            (s->fd = open(from, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 ||
            write_all(s->fd, (const unsigned char *)s->mem.data, s->mem.len) != 0) {
            int disk = errno == ENOSPC || errno == EDQUOT;
            return herr_set(&s->err, disk ? "disk_full" : "io_error", disk,
                            "cannot keep fragment %zu in %s: %s", s->index + 1, fl->work_dir,
                            strerror(errno));
        }
        buf_clear(&s->mem);
    }
    if (frag_path(fl, s->index, 1, from, sizeof from) != 0 ||
        frag_path(fl, s->index, 0, to, sizeof to) != 0 || rename(from, to) != 0)
        return herr_set(&s->err, "io_error", false, "cannot keep fragment %zu in %s: %s",
                        s->index + 1, fl->work_dir, strerror(errno));
    return 0;
}

static void frag_on_done(void *ud, CURLcode cc, long status, int aborted, const char *detail,
                         long retry_after_s)
{
    slot_t *s = ud;
    frag_list_t *fl = s->fl;
    frag_item_t *f = &fl->frags[s->index];
    haul_error_t e;
    herr_clear(&e);
    if (aborted && s->take == -2) {
        cc = CURLE_OK; /* we stopped it: the range was complete */
        status = 206;
    }
    if (aborted && herr_isset(&s->err)) {
        e = s->err;
    } else {
        classify_result(cc, status, f->url, detail, &e);
        e.retry_after_s = retry_after_s;
    }
    if (!herr_isset(&e) && slot_finish(s) != 0)
        e = s->err;
    if (s->cipher)
        EVP_CIPHER_CTX_reset(s->cipher);
    int ok = !herr_isset(&e);
    if (ok && s->fd < 0 && s->mem.len == (size_t)s->got && append_memory(fl, s) != 0) {
        release_slot(s, 0);
        return; /* the list ended: io_failure */
    }
    release_slot(s, ok);
    if (ok) {
        if (f->state != F_JOINED)
            f->state = F_FINISHED;
        f->size = s->got;
        fl->finished++;
        fl->finished_bytes += s->got;
        if (join(fl) != 0)
            return;
        if (fl->joined == fl->nfrags && !fl->open_ended) {
            end(fl, NULL);
            return;
        }
        if (fl->failing)
            fail_soon(fl, &fl->fail_err);
        else
            fill(fl);
        return;
    }
    if (e.transient && ++f->tries < fl->max_attempts && !fl->failing) {
        f->state = F_WAIT;
        f->retry_at = mono_now() + (double)backoff_delay_s(f->tries, e.retry_after_s);
        fill(fl);
        return;
    }
    if (fl->failing) { /* draining: the first failure is the one reported */
        f->state = F_TODO;
        fail_soon(fl, &fl->fail_err);
        return;
    }
    herr_prefix(&e, "fragment %zu of %zu: ", s->index + 1, fl->nfrags);
    if (e.transient)
        herr_append(&e, " (gave up after %u attempts; resume to try again)", f->tries);
    f->state = F_TODO;
    fail_soon(fl, &e);
}

/* Starts fragment i in slot s. Returns 0, or -1 when the list ended. */
static int frag_fetch(frag_list_t *fl, slot_t *s, size_t i)
{
    frag_item_t *f = &fl->frags[i];
    s->fl = fl;
    s->index = i;
    s->got = 0;
    s->skip = 0;
    s->take = -1;
    herr_clear(&s->err);
    s->fd = -1; /* memory first (slot_store) */
    buf_clear(&s->mem);
    char p[PATH_MAX];
    if (frag_path(fl, i, 1, p, sizeof p) != 0) {
        errno = ENAMETOOLONG;
        io_failure(fl, "create a fragment file in", fl->work_dir);
        return -1;
    }
    if (f->key >= 0) {
        if (!s->cipher && !(s->cipher = EVP_CIPHER_CTX_new()))
            abort();
        if (!EVP_DecryptInit_ex(s->cipher, EVP_aes_128_cbc(), NULL, fl->keys[f->key].key,
                                f->iv))
            abort();
    } else if (s->cipher) {
        EVP_CIPHER_CTX_free(s->cipher);
        s->cipher = NULL;
    }
    transfer_opts_t o = fl->net;
    o.url = f->url;
    o.range_from = f->length > 0 ? f->offset : 0;
    o.range_length = f->length > 0 ? f->length : 0;
    o.if_range = NULL;
    transfer_cbs_t cbs = {frag_on_response, frag_on_data, frag_on_done};
    haul_error_t e;
    s->xfer = transfer_start(fl->eng, &o, &cbs, s, &e);
    if (!s->xfer) {
        release_slot(s, 0);
        end(fl, &e);
        return -1;
    }
    f->state = F_FLIGHT;
    return 0;
}

static slot_t *free_slot(frag_list_t *fl)
{
    for (unsigned n = 0; n < fl->nslots; n++)
        if (!fl->slots[n].xfer)
            return &fl->slots[n];
    return NULL;
}

static void earliest(double *next, double t)
{
    if (*next < 0 || t < *next)
        *next = t;
}

/* Hands free slots the lowest due fragments, fetching the keys they need
 * first (fragments wait for their key in order), and arms the timer for
 * the earliest retry. */
static void fill(frag_list_t *fl)
{
    if (fl->state != L_RUNNING || fl->failing)
        return;
    double now = mono_now(), next = -1;
    slot_t *s = free_slot(fl);
    if (s && fl->rate > 0) { /* over the speed limit: start nothing yet */
        double due = fl->run_start + (double)fl->run_bytes / (double)fl->rate;
        if (due > now) {
            earliest(&next, due);
            s = NULL;
        }
    }
    for (size_t i = fl->joined; i < fl->nfrags && s; i++) {
        frag_item_t *f = &fl->frags[i];
        if (f->state != F_TODO && f->state != F_WAIT)
            continue;
        if (f->state == F_WAIT && f->retry_at > now) {
            earliest(&next, f->retry_at);
            continue;
        }
        if (f->key >= 0) {
            key_item_t *k = &fl->keys[f->key];
            if (k->state == K_WAIT && k->retry_at > now) {
                earliest(&next, k->retry_at);
                break;
            }
            if ((k->state == K_NONE || k->state == K_WAIT) && key_fetch(fl, k) != 0)
                return; /* the list ended */
            if (k->state != K_LOADED)
                break;
        }
        if (frag_fetch(fl, s, i) != 0)
            return; /* the list ended */
        s = free_slot(fl);
    }
    evtimer_del(fl->timer);
    if (next >= 0) {
        double d = next - now;
        struct timeval tv = {(long)d, (long)((d - (long)d) * 1e6)};
        evtimer_add(fl->timer, &tv);
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    fill(arg);
}

/* ---- public ---------------------------------------------------------------------- */

frag_list_t *frag_list_new(engine_t *eng, struct event_base *base, const frag_list_opts_t *o,
                           frag_list_end_fn on_end, void *ud, haul_error_t *err)
{
    if (!o->work_dir || !o->name || (o->nfrags == 0 && !o->open_ended)) {
        herr_set(err, "bad_option", false, "a fragment list needs a folder, a name and fragments");
        return NULL;
    }
    for (size_t i = 0; i < o->nfrags; i++)
        if (o->frags[i].key >= (int)o->nkeys) {
            herr_set(err, "bad_option", false, "fragment %zu names a key that is not given", i);
            return NULL;
        }
    frag_list_t *fl = calloc(1, sizeof *fl);
    if (!fl)
        abort();
    fl->eng = eng;
    fl->base = base;
    fl->on_end = on_end;
    fl->ud = ud;
    fl->out_fd = fl->state_fd = -1;
    fl->state = L_IDLE;
    fl->max_attempts = o->max_attempts ? o->max_attempts : DEFAULT_ATTEMPTS;
    if (fl->max_attempts > 100)
        fl->max_attempts = 100; /* tries are counted in a byte */
    fl->work_dir = xstrdup(o->work_dir);
    fl->name = xstrdup(o->name);
    fl->frags = calloc(o->nfrags ? o->nfrags : 1, sizeof *fl->frags);
    fl->keys = o->nkeys ? calloc(o->nkeys, sizeof *fl->keys) : NULL;
    if (!fl->frags || (o->nkeys && !fl->keys))
        abort();
    fl->nfrags = o->nfrags;
    fl->cap = o->nfrags;
    fl->open_ended = o->open_ended;
    for (size_t i = 0; i < o->nfrags; i++) {
        frag_item_t *f = &fl->frags[i];
        f->url = xstrdup(o->frags[i].url);
        f->offset = o->frags[i].offset;
        f->length = o->frags[i].length;
        f->key = o->frags[i].key;
        memcpy(f->iv, o->frags[i].iv, 16);
    }
    fl->nkeys = o->nkeys;
    for (size_t k = 0; k < o->nkeys; k++)
        fl->keys[k].url = xstrdup(o->key_urls[k]);
    unsigned n = o->connections ? o->connections : DEFAULT_CONNECTIONS;
    if (n > MAX_CONNECTIONS)
        n = MAX_CONNECTIONS;
    if ((size_t)n > o->nfrags && !o->open_ended)
        n = (unsigned)o->nfrags;
    fl->nslots = n;
    if (!(fl->slots = calloc(n, sizeof *fl->slots)))
        abort();
    for (unsigned i = 0; i < n; i++)
        fl->slots[i].fd = -1;
    if (o->net)
        fl->net = *o->net;
    fl->net.url = NULL;
    fl->net.if_range = NULL;
    fl->net.user_agent = xstrdup(fl->net.user_agent);
    fl->net.proxy = xstrdup(fl->net.proxy);
    fl->net.ca_file = xstrdup(fl->net.ca_file);
    /* The limit holds for the list as a whole: each connection gets its
     * share (libcurl's limit), and fill() starts a fragment only when the
     * list is within its budget: libcurl lets a short transfer run ahead
     * of its limit, and a stream is many short transfers. */
    fl->rate = fl->net.max_speed > 0 ? fl->net.max_speed : 0;
    if (fl->net.max_speed > 0)
        fl->net.max_speed = fl->net.max_speed / n > 0 ? fl->net.max_speed / n : 1;
    if (fl->net.nheaders) {
        if (!(fl->headers = calloc(fl->net.nheaders, sizeof *fl->headers)))
            abort();
        for (size_t i = 0; i < fl->net.nheaders; i++)
            fl->headers[i] = xstrdup(o->net->headers[i]);
        fl->net.headers = (const char *const *)fl->headers;
    }
    fl->timer = evtimer_new(base, on_timer, fl);
    if (!fl->timer)
        abort();
    if (snprintf(fl->out_path, sizeof fl->out_path, "%s/%s.out", o->work_dir, o->name) >=
            (int)sizeof fl->out_path ||
        snprintf(fl->state_path, sizeof fl->state_path, "%s/%s.state", o->work_dir,
                 o->name) >= (int)sizeof fl->state_path) {
        frag_list_free(fl);
        herr_set(err, "bad_option", false, "the work folder's path is too long: %s",
                 o->work_dir);
        return NULL;
    }
    herr_clear(&fl->err);
    return fl;
}

void frag_list_clean(frag_list_t *fl);

int frag_list_start(frag_list_t *fl, haul_error_t *err)
{
    if (fl->state == L_RUNNING)
        return 0;
    size_t joined = 0;
    int64_t bytes = 0;
    int rec = load_record(fl, &joined, &bytes);
    if (rec != 0) {
        joined = 0;
        bytes = 0;
        if (rec < 0)
            frag_list_clean(fl); /* the files belong to another list */
    }
    fl->out_fd = open(fl->out_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fl->out_fd < 0)
        return herr_set(err, errno == ENOSPC ? "disk_full" : "io_error", false,
                        "cannot open %s: %s", fl->out_path, strerror(errno));
    struct stat st;
    if (fstat(fl->out_fd, &st) != 0 || st.st_size < bytes) {
        /* the output lost what the record vouches for (a power cut):
         * start over rather than leave a hole */
        joined = 0;
        bytes = 0;
        rec = 1;
    }
    if (rec != 0)
        unlink(fl->state_path); /* no older copy may outlive a new start */
    if (st.st_size != bytes && ftruncate(fl->out_fd, bytes) != 0) {
        int e = errno;
        close_files(fl);
        return herr_set(err, "io_error", false, "cannot cut %s back to %lld bytes: %s",
                        fl->out_path, (long long)bytes, strerror(e));
    }
    fl->joined = joined;
    fl->out_len = bytes;
    fl->finished = joined;
    fl->finished_bytes = bytes;
    for (size_t i = 0; i < fl->nfrags; i++) {
        frag_item_t *f = &fl->frags[i];
        f->tries = 0;
        f->state = i < joined ? F_JOINED : F_TODO;
        if (i < joined)
            continue;
        char p[PATH_MAX];
        if (frag_path(fl, i, 1, p, sizeof p) == 0)
            unlink(p); /* a fragment cut short */
        struct stat fst;
        if (frag_path(fl, i, 0, p, sizeof p) == 0 && stat(p, &fst) == 0) {
            f->state = F_FINISHED; /* finished before: kept */
            f->size = fst.st_size;
            fl->finished++;
            fl->finished_bytes += fst.st_size;
        }
    }
    for (size_t k = 0; k < fl->nkeys; k++) {
        if (fl->keys[k].state != K_LOADED)
            fl->keys[k].state = K_NONE;
        fl->keys[k].tries = 0;
    }
    fl->fp = FP_START;
    fl->fp_n = 0;
    fl->run_start = mono_now();
    fl->run_bytes = 0;
    herr_clear(&fl->err);
    fl->failing = 0;
    fl->state = L_RUNNING;
    if (join(fl) != 0) {
        *err = fl->err;
        return -1;
    }
    if (fl->joined == fl->nfrags && !fl->open_ended) {
        end(fl, NULL);
        return 0;
    }
    fill(fl);
    if (fl->state == L_FAILED) {
        *err = fl->err;
        return -1;
    }
    return 0;
}

void frag_list_pause(frag_list_t *fl)
{
    if (fl->state != L_RUNNING)
        return;
    stop_all(fl);
    close_files(fl);
    for (size_t i = fl->joined; i < fl->nfrags; i++)
        if (fl->frags[i].state == F_WAIT)
            fl->frags[i].state = F_TODO;
    fl->state = L_PAUSED;
}

void frag_list_progress(const frag_list_t *fl, frag_progress_t *p)
{
    int64_t arriving = 0;
    for (unsigned i = 0; i < fl->nslots; i++)
        if (fl->slots[i].xfer)
            arriving += fl->slots[i].got;
    p->bytes_done = fl->finished_bytes + arriving;
    p->frags_done = fl->finished;
    p->nfrags = fl->nfrags;
    if (fl->open_ended)
        p->bytes_total = -1; /* a recording: nobody knows */
    else if (fl->finished == fl->nfrags)
        p->bytes_total = fl->finished_bytes;
    else if (fl->finished > 0)
        p->bytes_total = fl->finished_bytes +
                         (int64_t)((double)fl->finished_bytes / (double)fl->finished *
                                   (double)(fl->nfrags - fl->finished));
    else
        p->bytes_total = -1;
    if (p->bytes_total >= 0 && p->bytes_total < p->bytes_done)
        p->bytes_total = p->bytes_done;
}

int frag_list_append(frag_list_t *fl, const frag_t *frags, size_t n,
                     const char *const *key_urls, size_t nkeys, haul_error_t *err)
{
    for (size_t i = 0; i < n; i++)
        if (frags[i].key >= (int)nkeys)
            return herr_set(err, "bad_option", false, "an appended fragment names no key");
    if (nkeys > fl->nkeys) { /* new keys after the known ones */
        key_item_t *nk = realloc(fl->keys, nkeys * sizeof *nk);
        if (!nk)
            abort();
        memset(nk + fl->nkeys, 0, (nkeys - fl->nkeys) * sizeof *nk);
        for (size_t k = fl->nkeys; k < nkeys; k++)
            nk[k].url = xstrdup(key_urls[k]);
        fl->keys = nk;
        fl->nkeys = nkeys;
    }
    if (fl->nfrags + n > fl->cap) {
        size_t cap = fl->cap ? fl->cap : 16;
        while (cap < fl->nfrags + n)
            cap *= 2;
        frag_item_t *nf = realloc(fl->frags, cap * sizeof *nf);
        if (!nf)
            abort();
        fl->frags = nf;
        fl->cap = cap;
    }
    for (size_t i = 0; i < n; i++) {
        frag_item_t *f = &fl->frags[fl->nfrags++];
        memset(f, 0, sizeof *f);
        f->url = xstrdup(frags[i].url);
        f->offset = frags[i].offset;
        f->length = frags[i].length;
        f->key = frags[i].key;
        memcpy(f->iv, frags[i].iv, 16);
        f->state = F_TODO;
    }
    fill(fl);
    return 0;
}

void frag_list_close(frag_list_t *fl)
{
    fl->open_ended = 0;
    if (fl->state == L_RUNNING && fl->joined == fl->nfrags && busy_slots(fl) == 0)
        end(fl, NULL);
}

int64_t frag_kept_bytes(const char *work_dir)
{
    DIR *d = opendir(work_dir);
    if (!d)
        return 0;
    int64_t sum = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        /* video.out, audio.out, video.17: not .part, .state or .m3u8 */
        const char *dot = strrchr(e->d_name, '.');
        if (!dot || dot == e->d_name)
            continue;
        int numbered = dot[1] != '\0' && strspn(dot + 1, "0123456789") == strlen(dot + 1);
        if (!numbered && strcmp(dot, ".out") != 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, 0) == 0 && S_ISREG(st.st_mode))
            sum += st.st_size;
    }
    closedir(d);
    return sum;
}

const char *frag_list_output(const frag_list_t *fl)
{
    return fl->out_path;
}

void frag_list_clean(frag_list_t *fl)
{
    char p[PATH_MAX];
    for (size_t i = 0; i < fl->nfrags; i++) {
        if (frag_path(fl, i, 0, p, sizeof p) == 0)
            unlink(p);
        if (frag_path(fl, i, 1, p, sizeof p) == 0)
            unlink(p);
    }
    unlink(fl->state_path);
}

void frag_list_free(frag_list_t *fl)
{
    if (!fl)
        return;
    frag_list_pause(fl);
    close_files(fl);
    for (unsigned i = 0; i < fl->nslots; i++) {
        EVP_CIPHER_CTX_free(fl->slots[i].cipher);
        free(fl->slots[i].dec);
        buf_free(&fl->slots[i].mem);
    }
    free(fl->slots);
    for (size_t i = 0; i < fl->nfrags; i++)
        free(fl->frags[i].url);
    free(fl->frags);
    for (size_t k = 0; k < fl->nkeys; k++)
        free(fl->keys[k].url);
    free(fl->keys);
    for (size_t i = 0; i < fl->net.nheaders; i++)
        free(fl->headers[i]);
    free(fl->headers);
    free((char *)fl->net.user_agent);
    free((char *)fl->net.proxy);
    free((char *)fl->net.ca_file);
    if (fl->timer)
        event_free(fl->timer);
    free(fl->work_dir);
    free(fl->name);
    free(fl);
}
