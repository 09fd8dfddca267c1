/* classify: what the end of one HTTP attempt means, and when to try again.
 *
 * Transient failures (connect, timeout, reset, a cut connection, HTTP 408,
 * 429 and 5xx) are retried with exponential backoff and resume where they
 * stopped; permanent ones (404, 403, bad scheme, bad TLS certificate, too
 * many redirects, ...) stop the download with a sentence a person
 * understands. Pure functions, no I/O. */
#ifndef HAUL_ENGINE_CLASSIFY_H
#define HAUL_ENGINE_CLASSIFY_H

#include <curl/curl.h>
#include <time.h>

#include "core/error.h"

#define BACKOFF_BASE_S 1
#define BACKOFF_CAP_S 60
#define RETRY_AFTER_CAP_S 3600

/* Fills err from a finished attempt: cc is libcurl's result, status the
 * last HTTP status (0 when none), url what was asked for, detail libcurl's
 * error buffer (may be "" or NULL). Sets err->code = "" when cc is
 * CURLE_OK and the status is 2xx. */
void classify_result(CURLcode cc, long status, const char *url,
                     const char *detail, haul_error_t *err);

/* The error for an HTTP status >= 400 (or an unexpected 1xx/3xx). */
void classify_http_status(long status, const char *url, haul_error_t *err);

/* True for statuses worth retrying: 408, 429, 5xx except 501 and 505. */
int http_status_transient(long status);

/* The standard reason phrase, "" for unknown statuses. */
const char *http_reason(long status);

/* Seconds to wait before attempt number `attempt` (1 = the first retry):
 * 1, 2, 4, ... capped at BACKOFF_CAP_S. A server's Retry-After (>= 0)
 * overrides, capped at RETRY_AFTER_CAP_S. */
long backoff_delay_s(unsigned attempt, long retry_after_s);

#endif
