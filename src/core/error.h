/* error: the one way haul reports a failure.
 *
 * A failing function fills a caller-owned haul_error_t: a stable machine
 * code ("http_404", "disk_full", "checksum_mismatch", ...), a sentence a
 * person understands (what happened, to what, and what to do), and whether
 * trying again later can help. Nothing is allocated. */
#ifndef HAUL_CORE_ERROR_H
#define HAUL_CORE_ERROR_H

#include <stdbool.h>

#define HAUL_ERR_CODE_MAX 32
#define HAUL_ERR_MSG_MAX 512

typedef struct haul_error {
    char code[HAUL_ERR_CODE_MAX];   /* "" when no error */
    char message[HAUL_ERR_MSG_MAX];
    bool transient;                 /* a later attempt may succeed */
    long retry_after_s;             /* server's Retry-After, -1 when none */
} haul_error_t;

/* Resets err to "no error". */
void herr_clear(haul_error_t *err);

/* Sets code, transience and the printf-formatted message. Returns -1 so a
 * caller can write `return herr_set(err, ...);`. err may be NULL. */
int herr_set(haul_error_t *err, const char *code, bool transient,
             const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Puts the printf-formatted text before err's message ("fragment 3 of
 * 10: " + message), cutting the message's end when it gets too long. */
void herr_prefix(haul_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Adds the printf-formatted text after err's message, as far as it fits. */
void herr_append(haul_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* True when err holds an error. */
bool herr_isset(const haul_error_t *err);

#endif
