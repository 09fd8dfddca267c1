/* proc: a helper program (ffmpeg, yt-dlp) run as a child process without
 * blocking the loop. Its stdout is collected (up to a cap), the tail of
 * its stderr is kept for error messages, stdin is /dev/null. It runs in
 * its own process group, so stopping it stops what it started too. */
#ifndef HAUL_ENGINE_PROC_H
#define HAUL_ENGINE_PROC_H

#include <stddef.h>

#include "core/error.h"

struct event_base;
typedef struct proc proc_t;

/* The child has exited and both its outputs are closed. status is its exit
 * code, or 128 + the signal that killed it. out (NUL-terminated, out_len
 * bytes, NULL when not collected) and err_tail (the last few KiB of
 * stderr, trimmed, "" when none) are borrowed for the call. p is freed
 * right after this returns. */
typedef void (*proc_done_fn)(void *ud, int status, const char *out, size_t out_len,
                             const char *err_tail);

/* Starts argv[0] (searched in PATH) with argv. max_out > 0 collects up to
 * that many bytes of stdout (more kills the child: status 128 + SIGKILL,
 * and out_len says max_out + 1); 0 discards it. Returns the process, or
 * NULL with err set: code "tool_missing" when argv[0] is not installed. */
proc_t *proc_start(struct event_base *base, const char *const argv[], size_t max_out,
                   proc_done_fn done, void *ud, haul_error_t *err);

/* Kills the child's process group, reaps it, and frees p. No callback. */
void proc_kill(proc_t *p);

/* True when the program is on PATH (an executable file). */
int proc_available(const char *tool);

#endif
