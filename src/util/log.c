#include "util/log.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static log_level_t threshold = LOG_INFO;
static const char *const NAMES[] = {"debug", "info", "warn", "error"};

int log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (name && strcmp(name, NAMES[i]) == 0)
            return i;
    return -1;
}

void log_set_level(log_level_t level)
{
    threshold = level;
}

void log_msg(log_level_t level, const char *fmt, ...)
{
    if (level < threshold)
        return;
    char line[2048], when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s %s: %s\n", when, NAMES[level], line);
}

static void from_libevent(int severity, const char *msg)
{
    log_level_t l = severity == EVENT_LOG_DEBUG ? LOG_DEBUG
                    : severity == EVENT_LOG_MSG ? LOG_INFO
                    : severity == EVENT_LOG_WARN ? LOG_WARN : LOG_ERROR;
    log_msg(l, "libevent: %s", msg);
}

void log_route_libevent(void)
{
    event_set_log_callback(from_libevent);
}
