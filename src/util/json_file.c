/* json_file.c: see json_file.h. */
#include "util/json_file.h"

#include <errno.h>
#include <stdlib.h>

#include "util/fs.h"

json_t *json_read_file(const char *path, size_t max)
{
    char *text = fs_read_small(path, max);
    if (!text)
        return NULL;
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    free(text);
    if (!o)
        errno = EINVAL;
    return o;
}
