/* fname: turn untrusted text (Content-Disposition names, URL paths) into a
 * file name that is safe to create inside a download folder.
 *
 * A safe name: valid UTF-8 (invalid bytes become '_'), no '/' or '\\', no
 * control characters (< 0x20, 0x7f), not "." or "..", no leading dot or
 * leading/trailing spaces, at most FNAME_MAX bytes (cut on a UTF-8
 * boundary, keeping the extension when it is short), never empty
 * ("download" when nothing is left). */
#ifndef HAUL_UTIL_FNAME_H
#define HAUL_UTIL_FNAME_H

#include <stddef.h>

#define FNAME_MAX 200

/* Writes the sanitized form of in into out (outsz >= FNAME_MAX + 1).
 * Returns 0, or -1 when outsz is too small. */
int fname_sanitize(const char *in, char *out, size_t outsz);

/* The last non-empty segment of the URL's path, percent-decoded and
 * sanitized, into out. Query and fragment are ignored.
 * Returns 0, or -1 when the path has no usable segment (then out = ""). */
int fname_from_url(const char *url, char *out, size_t outsz);

/* The n-th alternative to a clashing name: "a.mp4" -> "a (1).mp4",
 * "archive.tar.gz" -> "archive (1).tar.gz", "README" -> "README (1)".
 * The result still fits FNAME_MAX (the stem is cut). Returns 0 or -1. */
int fname_numbered(const char *name, unsigned n, char *out, size_t outsz);

#endif
