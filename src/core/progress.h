/* progress: transfer speed over a sliding window and the ETA it implies.
 * Pure arithmetic on (time, bytes) samples; no clock of its own. */
#ifndef HAUL_CORE_PROGRESS_H
#define HAUL_CORE_PROGRESS_H

#include <stdint.h>

#define METER_SLOTS 32

typedef struct meter {
    double t[METER_SLOTS];      /* sample times, seconds */
    int64_t bytes[METER_SLOTS]; /* bytes done at that time */
    unsigned head, count;
    double window_s;            /* how far back the speed looks */
    double min_interval_s;      /* samples closer than this are merged */
} meter_t;

/* Starts an empty meter looking back window_s seconds. */
void meter_init(meter_t *m, double window_s);

/* Forgets every sample (after a pause or restart: the old speed no longer
 * describes what happens now). */
void meter_reset(meter_t *m);

/* Records that `bytes` were done at time `now` (monotonic seconds). */
void meter_sample(meter_t *m, double now, int64_t bytes);

/* Bytes per second over the window, 0 with fewer than two samples. */
double meter_speed(const meter_t *m);

/* Seconds left for `remaining` bytes at `speed`, -1 when unknown. */
int64_t meter_eta(double speed, int64_t remaining);

/* Monotonic clock, seconds. */
double mono_now(void);

#endif
