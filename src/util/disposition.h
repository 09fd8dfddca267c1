/* disposition: the file name a server suggests in Content-Disposition
 * (RFC 6266), including the RFC 8187 extended form filename*=UTF-8''…
 * which wins over a plain filename= when both are present. */
#ifndef HAUL_UTIL_DISPOSITION_H
#define HAUL_UTIL_DISPOSITION_H

#include <stddef.h>

/* Parses a Content-Disposition header value (without the header name) and
 * writes the suggested name, decoded but NOT sanitized, into out.
 * filename*= takes the charsets UTF-8 (must decode to valid UTF-8) and
 * ISO-8859-1 (converted to UTF-8); one with another charset, a bad or
 * truncated %XX escape or a %00 is ignored, and a plain filename= is used
 * instead. Tolerates: any disposition type or none, blanks, quoted
 * ext-values, unquoted names with spaces (up to the next ';').
 * Returns 0 when a name was found, -1 otherwise (malformed, no name,
 * unsupported charset, out too small); out is "" then. */
int disposition_filename(const char *value, char *out, size_t outsz);

#endif
