#include "core/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *xstrdup(const char *s)
{
    char *p = strdup(s ? s : "");
    if (!p)
        abort();
    return p;
}

void job_set_str(char **dst, const char *src)
{
    char *p = xstrdup(src);
    free(*dst);
    *dst = p;
}

job_t *job_new(void)
{
    job_t *j = calloc(1, sizeof *j);
    if (!j)
        abort();
    j->url = xstrdup("");
    j->title = xstrdup("");
    j->filename = xstrdup("");
    j->error_message = xstrdup("");
    j->bytes_total = -1;
    j->eta_s = -1;
    j->opt.dir = xstrdup("");
    j->opt.filename = xstrdup("");
    j->opt.mode = xstrdup("auto");
    j->opt.format = xstrdup("best");
    j->opt.sha256 = xstrdup("");
    j->opt.connections = 4; /* fragments in flight for streams; a single resource uses one */
    return j;
}

void job_options_clear(job_options_t *o)
{
    free(o->dir);
    free(o->filename);
    free(o->mode);
    free(o->format);
    free(o->sha256);
    for (size_t i = 0; i < o->nheaders; i++)
        free(o->headers[i]);
    free(o->headers);
    memset(o, 0, sizeof *o);
}

void job_free(job_t *j)
{
    if (!j)
        return;
    free(j->url);
    free(j->title);
    free(j->filename);
    free(j->error_message);
    job_options_clear(&j->opt);
    free(j->json);
    free(j);
}

void job_changed(job_t *j)
{
    free(j->json);
    j->json = NULL;
}

void job_set_error(job_t *j, const haul_error_t *err)
{
    if (err && herr_isset(err)) {
        snprintf(j->error_code, sizeof j->error_code, "%s", err->code);
        job_set_str(&j->error_message, err->message);
    } else {
        j->error_code[0] = '\0';
        job_set_str(&j->error_message, "");
    }
}

static const char *const STATE_NAMES[JOB_STATE_COUNT] = {
    "queued", "running", "paused", "done", "failed", "canceled",
};

const char *job_state_name(job_state_t s)
{
    return (unsigned)s < JOB_STATE_COUNT ? STATE_NAMES[s] : "unknown";
}

int job_state_parse(const char *name)
{
    for (int i = 0; i < JOB_STATE_COUNT; i++)
        if (name && strcmp(name, STATE_NAMES[i]) == 0)
            return i;
    return -1;
}

bool job_state_final(job_state_t s)
{
    return s == JOB_DONE || s == JOB_FAILED || s == JOB_CANCELED;
}

/* The state machine, as a table: for each action, the states it applies to
 * (a bit per state) and where it leads. */
typedef struct transition {
    const char *name;
    unsigned from;         /* bit (1 << state) per allowed source state */
    job_state_t to;
    const char *works_on;  /* for the refusal's sentence */
} transition_t;

#define S(x) (1u << (x))
static const transition_t TRANSITIONS[] = {
    [JOB_PAUSE] = {"pause", S(JOB_QUEUED) | S(JOB_RUNNING), JOB_PAUSED,
                   "queued or running jobs"},
    [JOB_RESUME] = {"resume", S(JOB_PAUSED), JOB_QUEUED, "paused jobs"},
    [JOB_CANCEL] = {"cancel", S(JOB_QUEUED) | S(JOB_RUNNING) | S(JOB_PAUSED),
                    JOB_CANCELED, "queued, running or paused jobs"},
    [JOB_RETRY] = {"retry", S(JOB_FAILED) | S(JOB_CANCELED), JOB_QUEUED,
                   "failed or canceled jobs"},
    [JOB_START] = {"start", S(JOB_QUEUED), JOB_RUNNING, "queued jobs"},
    [JOB_FINISH] = {"finish", S(JOB_RUNNING), JOB_DONE, "running jobs"},
    [JOB_FAIL] = {"fail", S(JOB_RUNNING), JOB_FAILED, "running jobs"},
    [JOB_REQUEUE] = {"requeue", S(JOB_RUNNING), JOB_QUEUED, "running jobs"},
};
#undef S
#define NTRANSITIONS (sizeof TRANSITIONS / sizeof TRANSITIONS[0])

const char *job_action_name(job_action_t a)
{
    return (unsigned)a < NTRANSITIONS ? TRANSITIONS[a].name : "unknown";
}

int job_action_parse(const char *name)
{
    for (int i = JOB_PAUSE; i <= JOB_RETRY; i++)
        if (name && strcmp(name, TRANSITIONS[i].name) == 0)
            return i;
    return -1;
}

int job_next_state(const char *id, job_state_t from, job_action_t a,
                   job_state_t *to, haul_error_t *err)
{
    if ((unsigned)a >= NTRANSITIONS || (unsigned)from >= JOB_STATE_COUNT)
        return herr_set(err, "bad_state", false, "unknown action or state");
    const transition_t *t = &TRANSITIONS[a];
    if (!(t->from & (1u << from)))
        return herr_set(err, "bad_state", false,
                        "cannot %s job %s: it is %s, and %s moves only %s to %s",
                        t->name, id ? id : "", job_state_name(from), t->name, t->works_on,
                        job_state_name(t->to));
    *to = t->to;
    return 0;
}

int64_t job_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void job_event_free(job_event_t *ev)
{
    if (!ev)
        return;
    free(ev->message);
    free(ev);
}
