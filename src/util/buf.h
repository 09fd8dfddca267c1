/* buf: a growable byte buffer with a cap, for bodies read into memory
 * (playlists, a child process's output), and xstrdup. Allocation failure
 * aborts (the house rule), so neither returns an out-of-memory error. */
#ifndef HAUL_UTIL_BUF_H
#define HAUL_UTIL_BUF_H

#include <stddef.h>

typedef struct buf {
    char *data;     /* NUL-terminated after the len bytes (NULL while empty) */
    size_t len, cap;
} buf_t;

/* Appends n bytes unless len would pass max: then returns -1 and adds
 * nothing. Returns 0. */
int buf_add(buf_t *b, const void *p, size_t n, size_t max);

/* Empties b, keeping its memory. */
void buf_clear(buf_t *b);

/* Frees b's memory and empties it. */
void buf_free(buf_t *b);

/* strdup that aborts when out of memory; NULL gives NULL. */
char *xstrdup(const char *s);

#endif
