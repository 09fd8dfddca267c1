/* url: checks on URLs people paste, before anything is fetched. */
#ifndef HAUL_UTIL_URL_H
#define HAUL_UTIL_URL_H

#include "core/error.h"

#define URL_MAX 8192

/* Accepts absolute http:// and https:// URLs with a host; anything else
 * gets err ("bad_url" or "unsupported_scheme") naming the URL and saying
 * what is accepted. Returns 0 or -1. */
int url_check(const char *url, haul_error_t *err);

#endif
