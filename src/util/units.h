/* units: sizes, rates and durations for people, both ways. */
#ifndef HAUL_UTIL_UNITS_H
#define HAUL_UTIL_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* "1.5 MiB", "532 B". Returns out. */
char *fmt_bytes(int64_t n, char *out, size_t outsz);

/* "1:02:03", "4:05", "--:--" for negative. Returns out. */
char *fmt_duration(int64_t s, char *out, size_t outsz);

/* Parses "1048576", "500K", "2M", "1.5G", "10MiB" (binary multiples,
 * case-insensitive, optional "B"/"iB"). Returns 0 and sets *out, or -1. */
int parse_size(const char *s, int64_t *out);

/* Parses a duration: "90" (seconds), "30s", "15m", "2h", "7d", "1w",
 * "1h30m". Returns 0 and sets *out (seconds), or -1. */
int parse_duration(const char *s, int64_t *out);

/* Parses a non-negative integer that fits a long. Returns 0 or -1. */
int parse_long(const char *s, long *out);

#endif
