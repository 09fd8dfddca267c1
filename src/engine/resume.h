/* resume: byte-exact resume decisions, kept pure so they can be tested
 * without a network.
 *
 * The part file's length is the offset: a resumed request asks for
 * `Range: bytes=<len>-` with `If-Range: <validator>` (a strong ETag, else
 * Last-Modified). The answer decides what happens to the part file. */
#ifndef HAUL_ENGINE_RESUME_H
#define HAUL_ENGINE_RESUME_H

#include <stdint.h>

typedef enum resume_action {
    RESUME_APPEND,   /* 206 from our offset: append the body */
    RESUME_RESTART,  /* the body is the whole resource: truncate, write from 0 */
    RESUME_REFETCH,  /* drop the part file and ask again without a Range */
    RESUME_COMPLETE, /* the part file already holds everything: verify it */
    RESUME_ERROR,    /* not a usable answer (4xx/5xx): classify the status */
} resume_action_t;

typedef struct resume_answer {
    long status;          /* HTTP status of the final response */
    int64_t range_first;  /* Content-Range first byte, -1 when absent */
    int64_t range_total;  /* Content-Range complete length, -1 when absent or '*' */
} resume_answer_t;

/* What to do with a part file of part_len bytes (0 = fresh start) given
 * the answer; known_total is the size recorded when the download began
 * (-1 when unknown). *why gets a static sentence for RESTART and REFETCH
 * (to tell the user), NULL otherwise. */
resume_action_t resume_decide(int64_t part_len, int64_t known_total,
                              const resume_answer_t *ans, const char **why);

/* The If-Range validator to send: a strong ETag, else Last-Modified, else
 * NULL (then no Range is sent safely: the caller restarts from zero).
 * Either argument may be NULL or "". Returns one of them (borrowed). */
const char *resume_validator(const char *etag, const char *last_modified);

/* Parses a Content-Range value: "bytes A-B/T", with "*" for an unknown
 * range or total. Sets *first (-1 for no range) and
 * *total (-1 when unknown). Returns 0, or -1 when malformed. */
int parse_content_range(const char *value, int64_t *first, int64_t *total);

#endif
