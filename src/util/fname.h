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
 * '/', '\\', control characters and each invalid UTF-8 byte become '_';
 * leading dots and spaces and trailing dots and spaces go; nothing else
 * changes ("../../etc/passwd" -> "_.._etc_passwd"). A longer name is cut
 * on a UTF-8 boundary, keeping its extension: .tar.gz, .tar.bz2, .tar.xz,
 * .tar.zst, or else the last dot and what follows it when that is 2 to 16
 * bytes with no space.
 * A NULL in counts as "". Returns 0, or -1 when outsz is too small (out
 * is "" then). */
int fname_sanitize(const char *in, char *out, size_t outsz);

/* The last non-empty segment of the path of a "scheme://host..." URL,
 * percent-decoded (%2F too, which sanitizing turns into '_') and
 * sanitized, into out (outsz >= FNAME_MAX + 1). Query and fragment are
 * ignored. Returns 0, or -1 when the URL has no scheme, the path has no
 * segment, or the segment sanitizes to nothing (".", "..", "%20"); then
 * out = "". */
int fname_from_url(const char *url, char *out, size_t outsz);

/* The n-th alternative to a clashing (sanitized) name: "a.mp4" ->
 * "a (1).mp4", "archive.tar.gz" -> "archive (1).tar.gz", "README" ->
 * "README (1)", ".bashrc" -> ".bashrc (1)" (extensions as for
 * fname_sanitize). The result still fits FNAME_MAX (the stem is cut on a
 * UTF-8 boundary). outsz >= FNAME_MAX + 1. Returns 0, or -1 (empty name,
 * small out; out = "" then). */
int fname_numbered(const char *name, unsigned n, char *out, size_t outsz);

#endif
