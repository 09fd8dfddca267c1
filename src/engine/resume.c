#include "engine/resume.h"

#include <ctype.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

resume_action_t resume_decide(int64_t part_len, int64_t known_total,
                              const resume_answer_t *ans, const char **why)
{
    *why = NULL;
    long st = ans->status;
    if (part_len <= 0) {
        if (st == 200 || st == 203)
            return RESUME_APPEND; /* fresh: append to an empty file */
        if (st == 206 && ans->range_first == 0)
            return RESUME_APPEND;
        if (st == 206) {
            *why = "the server sent a part that was not asked for; starting over";
            return RESUME_REFETCH;
        }
        return RESUME_ERROR;
    }
    if (st == 206) {
        if (ans->range_first == part_len &&
            (known_total < 0 || ans->range_total < 0 || ans->range_total == known_total))
            return RESUME_APPEND;
        *why = "the server's partial answer does not continue the part file; starting over";
        return RESUME_REFETCH;
    }
    if (st == 200 || st == 203) {
        *why = "the server sent the whole file instead of the rest (it changed, "
               "or it cannot resume); starting over from zero";
        return RESUME_RESTART;
    }
    if (st == 416) {
        int64_t total = ans->range_total >= 0 ? ans->range_total : known_total;
        if (total >= 0 && total == part_len)
            return RESUME_COMPLETE;
        *why = "the server cannot serve the rest of the part file (it changed); "
               "starting over from zero";
        return RESUME_REFETCH;
    }
    return RESUME_ERROR;
}

const char *resume_validator(const char *etag, const char *last_modified)
{
    if (etag && etag[0] == '"' && strlen(etag) >= 2 && etag[strlen(etag) - 1] == '"')
        return etag;
    if (last_modified && last_modified[0])
        return last_modified;
    return NULL;
}

/* Parses a non-negative decimal at *p, advancing it. Returns -1 on none. */
static int64_t parse_num(const char **p)
{
    if (!isdigit((unsigned char)**p))
        return -1;
    char *end;
    long long v = strtoll(*p, &end, 10);
    if (v < 0)
        return -1;
    *p = end;
    return v;
}

int parse_content_range(const char *value, int64_t *first, int64_t *total)
{
    const char *p = value;
    while (*p == ' ')
        p++;
    if (strncasecmp(p, "bytes", 5) != 0)
        return -1;
    p += 5;
    while (*p == ' ' || *p == '=')
        p++;
    if (*p == '*') {
        *first = -1;
        p++;
    } else {
        int64_t a = parse_num(&p);
        if (a < 0 || *p != '-')
            return -1;
        p++;
        int64_t b = parse_num(&p);
        if (b < a)
            return -1;
        *first = a;
    }
    if (*p != '/')
        return -1;
    p++;
    if (*p == '*') {
        *total = -1;
        return 0;
    }
    int64_t t = parse_num(&p);
    if (t < 0)
        return -1;
    *total = t;
    return 0;
}
