#include "core/progress.h"

#include <time.h>

void meter_init(meter_t *m, double window_s)
{
    m->window_s = window_s;
    m->min_interval_s = window_s / (METER_SLOTS / 2);
    meter_reset(m);
}

void meter_reset(meter_t *m)
{
    m->head = 0;
    m->count = 0;
}

/* Index of the i-th newest sample (0 = newest). */
static unsigned nth_newest(const meter_t *m, unsigned i)
{
    return (m->head + METER_SLOTS - 1 - i) % METER_SLOTS;
}

void meter_sample(meter_t *m, double now, int64_t bytes)
{
    if (m->count > 0 && bytes < m->bytes[nth_newest(m, 0)])
        meter_reset(m); /* restarted from zero: the old samples lie */
    if (m->count > 1 && now - m->t[nth_newest(m, 1)] < m->min_interval_s) {
        unsigned last = nth_newest(m, 0); /* too close: move the newest */
        m->t[last] = now;
        m->bytes[last] = bytes;
        return;
    }
    m->t[m->head] = now;
    m->bytes[m->head] = bytes;
    m->head = (m->head + 1) % METER_SLOTS;
    if (m->count < METER_SLOTS)
        m->count++;
}

double meter_speed(const meter_t *m)
{
    if (m->count < 2)
        return 0;
    unsigned newest = nth_newest(m, 0);
    /* the oldest sample inside the window, at least one step back */
    unsigned from = nth_newest(m, 1);
    for (unsigned i = 2; i < m->count; i++) {
        unsigned k = nth_newest(m, i);
        if (m->t[newest] - m->t[k] > m->window_s)
            break;
        from = k;
    }
    double dt = m->t[newest] - m->t[from];
    if (dt <= 0)
        return 0;
    return (double)(m->bytes[newest] - m->bytes[from]) / dt;
}

int64_t meter_eta(double speed, int64_t remaining)
{
    if (remaining < 0 || speed < 1)
        return -1;
    double t = (double)remaining / speed;
    int64_t whole = (int64_t)t;
    return (double)whole < t ? whole + 1 : whole; /* round up */
}

double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
