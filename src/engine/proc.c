/* proc.c: see proc.h. */
#include "engine/proc.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"

#define ERR_TAIL 4096

extern char **environ;

struct proc {
    pid_t pid;
    int out_fd, err_fd;          /* -1 once at EOF */
    struct event *out_ev, *err_ev;
    struct event *reap_ev;       /* outputs closed, the exit not seen yet */
    buf_t out;                   /* collected stdout */
    size_t max_out;
    char tail[ERR_TAIL + 1];     /* the last ERR_TAIL bytes of stderr */
    size_t tail_len;
    int overflow;
    proc_done_fn done;
    void *ud;
};

int proc_available(const char *tool)
{
    if (strchr(tool, '/'))
        return access(tool, X_OK) == 0;
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *end = strchr(path, ':');
        size_t n = end ? (size_t)(end - path) : strlen(path);
        char full[PATH_MAX];
        struct stat st;
        if (n > 0 && snprintf(full, sizeof full, "%.*s/%s", (int)n, path, tool) < (int)sizeof full &&
            stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0)
            return 1;
        path += n + (end ? 1 : 0);
    }
    return 0;
}

static void proc_free(proc_t *p)
{
    if (p->out_ev)
        event_free(p->out_ev);
    if (p->err_ev)
        event_free(p->err_ev);
    if (p->reap_ev)
        event_free(p->reap_ev);
    if (p->out_fd >= 0)
        close(p->out_fd);
    if (p->err_fd >= 0)
        close(p->err_fd);
    buf_free(&p->out);
    free(p);
}

/* The child's exit status, waiting for it when flags is 0; -1 while it
 * runs (flags WNOHANG). */
static int reap(pid_t pid, int flags)
{
    int st = 0;
    pid_t r;
    while ((r = waitpid(pid, &st, flags)) < 0) {
        if (errno != EINTR)
            return 128 + SIGKILL;
    }
    if (r == 0)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static void finish(proc_t *p);

static void on_reap_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    finish(arg);
}

/* Both outputs closed: the child has exited, or is about to. Its status is
 * taken without waiting: if it still runs, a timer looks again (the loop
 * never blocks on a child). */
static void finish(proc_t *p)
{
    int status = reap(p->pid, WNOHANG);
    if (status < 0) {
        struct timeval tv = {0, 20000};
        if (!p->reap_ev)
            p->reap_ev = evtimer_new(event_get_base(p->out_ev), on_reap_timer, p);
        if (p->reap_ev && evtimer_add(p->reap_ev, &tv) == 0)
            return;
        status = reap(p->pid, 0); /* no timer: wait after all */
    }
    /* trim the stderr tail to whole lines and no trailing blanks */
    char *t = p->tail;
    if (p->tail_len == ERR_TAIL) {
        char *nl = strchr(t, '\n');
        if (nl)
            t = nl + 1;
    }
    size_t n = strlen(t);
    while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' '))
        t[--n] = '\0';
    p->done(p->ud, status, p->out.data, p->overflow ? p->max_out + 1 : p->out.len, t);
    proc_free(p);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    proc_t *p = arg;
    char buf[65536];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) { /* EOF (or an error: the same for us) */
        if (fd == p->out_fd) {
            event_del(p->out_ev);
            close(p->out_fd);
            p->out_fd = -1;
        } else {
            event_del(p->err_ev);
            close(p->err_fd);
            p->err_fd = -1;
        }
        if (p->out_fd < 0 && p->err_fd < 0)
            finish(p);
        return;
    }
    if (fd == p->out_fd) {
        if (!p->max_out || p->overflow)
            return;
        if (buf_add(&p->out, buf, (size_t)n, p->max_out) != 0) {
            p->overflow = 1;
            kill(-p->pid, SIGKILL);
        }
        return;
    }
    /* stderr: keep the last ERR_TAIL bytes */
    size_t k = (size_t)n;
    if (k >= ERR_TAIL) {
        memcpy(p->tail, buf + k - ERR_TAIL, ERR_TAIL);
        p->tail_len = ERR_TAIL;
    } else {
        if (p->tail_len + k > ERR_TAIL) {
            size_t drop = p->tail_len + k - ERR_TAIL;
            memmove(p->tail, p->tail + drop, p->tail_len - drop);
            p->tail_len -= drop;
        }
        memcpy(p->tail + p->tail_len, buf, k);
        p->tail_len += k;
    }
    p->tail[p->tail_len] = '\0';
}

proc_t *proc_start(struct event_base *base, const char *const argv[], size_t max_out,
                   proc_done_fn done, void *ud, haul_error_t *err)
{
    if (!proc_available(argv[0])) {
        herr_set(err, "tool_missing", false,
                 "%s is not installed (not found on PATH); install it (Debian: apt-get "
                 "install %s) and try again",
                 argv[0], argv[0]);
        return NULL;
    }
    proc_t *p = calloc(1, sizeof *p);
    if (!p)
        abort();
    p->out_fd = p->err_fd = -1;
    p->done = done;
    p->ud = ud;
    p->max_out = max_out;
    int out[2] = {-1, -1}, errp[2] = {-1, -1};
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
        herr_set(err, "out_of_resources", true, "cannot start %s: %s", argv[0], strerror(errno));
        goto fail;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    if (posix_spawn_file_actions_init(&fa) != 0)
        abort();
    if (posix_spawnattr_init(&attr) != 0)
        abort();
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    sigset_t dfl;
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    sigaddset(&dfl, SIGTERM);
    sigaddset(&dfl, SIGINT);
    posix_spawnattr_setsigdefault(&attr, &dfl);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    int rc = posix_spawnp(&p->pid, argv[0], &fa, &attr, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(out[1]);
    close(errp[1]);
    out[1] = errp[1] = -1;
    if (rc != 0) {
        herr_set(err, rc == ENOENT ? "tool_missing" : "out_of_resources", false,
                 "cannot start %s: %s", argv[0], strerror(rc));
        goto fail;
    }
    p->out_fd = out[0];
    p->err_fd = errp[0];
    out[0] = errp[0] = -1;
    fcntl(p->out_fd, F_SETFL, O_NONBLOCK);
    fcntl(p->err_fd, F_SETFL, O_NONBLOCK);
    p->out_ev = event_new(base, p->out_fd, EV_READ | EV_PERSIST, on_readable, p);
    p->err_ev = event_new(base, p->err_fd, EV_READ | EV_PERSIST, on_readable, p);
    if (!p->out_ev || !p->err_ev || event_add(p->out_ev, NULL) != 0 ||
        event_add(p->err_ev, NULL) != 0) {
        herr_set(err, "out_of_resources", true, "cannot watch %s", argv[0]);
        proc_kill(p);
        return NULL;
    }
    return p;
fail:
    for (int i = 0; i < 2; i++) {
        if (out[i] >= 0)
            close(out[i]);
        if (errp[i] >= 0)
            close(errp[i]);
    }
    free(p);
    return NULL;
}

void proc_kill(proc_t *p)
{
    if (!p)
        return;
    kill(-p->pid, SIGKILL);
    reap(p->pid, 0); /* killed: gone at once */
    proc_free(p);
}
