/* log: one line per message on stderr, "2026-11-28T17:00:00Z info: ...",
 * filtered by level before anything is formatted. libevent's own messages
 * are routed here too (log_route_libevent). */
#ifndef HAUL_UTIL_LOG_H
#define HAUL_UTIL_LOG_H

typedef enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;

/* "debug", "info", "warn", "error"; -1 for anything else. */
int log_level_parse(const char *name);
void log_set_level(log_level_t level);
void log_msg(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_route_libevent(void);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
