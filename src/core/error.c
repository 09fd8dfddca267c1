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

void herr_prefix(haul_error_t *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[HAUL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    size_t plen = (size_t)n < sizeof prefix ? (size_t)n : sizeof prefix - 1;
    size_t mlen = strlen(err->message);
    if (plen + mlen >= sizeof err->message)
        mlen = sizeof err->message - 1 - plen;
    memmove(err->message + plen, err->message, mlen);
    memcpy(err->message, prefix, plen);
    err->message[plen + mlen] = '\0';
}

void herr_append(haul_error_t *err, const char *fmt, ...)
{
    if (!err)
        return;
    size_t n = strlen(err->message);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message + n, sizeof err->message - n, fmt, ap);
    va_end(ap);
}
