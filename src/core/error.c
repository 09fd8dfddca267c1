#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void herr_clear(haul_error_t *err)
{
    if (!err)
        return;
    err->code[0] = '\0';
    err->message[0] = '\0';
    err->transient = false;
    err->retry_after_s = -1;
}

int herr_set(haul_error_t *err, const char *code, bool transient,
             const char *fmt, ...)
{
    if (!err)
        return -1;
    snprintf(err->code, sizeof err->code, "%s", code);
    err->transient = transient;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

bool herr_isset(const haul_error_t *err)
{
    return err && err->code[0] != '\0';
}
