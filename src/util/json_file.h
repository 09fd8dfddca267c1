/* json_file: a small JSON file read whole (records in work folders:
 * meta.json, finished.json, plan.json, a fragment list's state). */
#ifndef HAUL_UTIL_JSON_FILE_H
#define HAUL_UTIL_JSON_FILE_H

#include <jansson.h>
#include <stddef.h>

/* The JSON value in the file at path (at most max bytes), new reference;
 * NULL when it cannot be read (errno tells: ENOENT when it is not there)
 * or is not JSON (errno EINVAL). */
json_t *json_read_file(const char *path, size_t max);

#endif
