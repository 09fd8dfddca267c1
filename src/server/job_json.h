/* job_json: jobs to and from the API's JSON (jansson).
 *
 * The request side is strict: every field has one type and a range,
 * unknown fields are refused, and each refusal names the field. */
#ifndef HAUL_SERVER_JOB_JSON_H
#define HAUL_SERVER_JOB_JSON_H

#include <jansson.h>
#include <stdint.h>

#include "core/error.h"
#include "core/job.h"

/* The job as the API shows it (a new reference). */
json_t *job_to_json(const job_t *j);

/* The job's JSON text (compact), borrowed from the job: valid until it
 * changes. Made once per change for a job at rest, every time for a
 * running one. NULL when out of memory. */
const char *job_json_text(job_t *j);

/* A new job (queued, no id yet) from a create request's body. Returns NULL
 * with err set (code "invalid_field") and *field pointing at the field's
 * name (static or borrowed from body). */
job_t *job_from_request(json_t *body, const char **field, haul_error_t *err);

/* "2026-11-28T17:00:00Z", or JSON null for 0 (a new reference). */
json_t *json_time(int64_t unix_ms);

#endif
