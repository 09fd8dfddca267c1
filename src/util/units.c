#include "util/units.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

char *fmt_bytes(int64_t n, char *out, size_t outsz)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double)n;
    unsigned u = 0;
    while (v >= 1024 && u < sizeof units / sizeof units[0] - 1) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, outsz, "%lld B", (long long)n);
    else
        snprintf(out, outsz, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s",
                 v, units[u]);
    return out;
}

char *fmt_duration(int64_t s, char *out, size_t outsz)
{
    if (s < 0)
        snprintf(out, outsz, "--:--");
    else if (s >= 3600)
        snprintf(out, outsz, "%lld:%02lld:%02lld", (long long)(s / 3600),
                 (long long)(s / 60 % 60), (long long)(s % 60));
    else
        snprintf(out, outsz, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
    return out;
}

int parse_size(const char *s, int64_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    double mult = 1;
    switch (toupper((unsigned char)*end)) {
    case 'K': mult = 1024.0; end++; break;
    case 'M': mult = 1024.0 * 1024; end++; break;
    case 'G': mult = 1024.0 * 1024 * 1024; end++; break;
    case 'T': mult = 1024.0 * 1024 * 1024 * 1024; end++; break;
    default: break;
    }
    if (mult > 1 && (*end == 'i' || *end == 'I'))
        end++;
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end != '\0')
        return -1;
    double r = v * mult;
    if (r > 9.0e18)
        return -1;
    *out = (int64_t)(r + 0.5);
    return 0;
}

int parse_long(const char *s, long *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (errno || *end != '\0' || v < 0)
        return -1;
    *out = v;
    return 0;
}

int parse_duration(const char *s, int64_t *out)
{
    int64_t total = 0;
    const char *p = s;
    if (!*p)
        return -1;
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return -1;
        errno = 0;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (errno)
            return -1;
        int64_t mult;
        switch (*end) {
        case '\0':
            if (p != s) /* "1h30": a unit is needed after the first part */
                return -1;
            mult = 1;
            break;
        case 's': mult = 1; end++; break;
        case 'm': mult = 60; end++; break;
        case 'h': mult = 3600; end++; break;
        case 'd': mult = 86400; end++; break;
        case 'w': mult = 7 * 86400; end++; break;
        default: return -1;
        }
        if (v > (INT64_MAX - total) / mult / 2)
            return -1;
        total += v * mult;
        p = end;
    }
    *out = total;
    return 0;
}
