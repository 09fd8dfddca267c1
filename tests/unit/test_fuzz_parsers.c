/* Randomized robustness tests for every parser of untrusted input: random
 * and mutated inputs must never crash or read out of bounds (AddressSanitizer
 * watches), and whatever comes out must keep the contract (a sanitized name
 * is always safe). Fixed seeds: a failure reproduces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/resume.h"
#include "util/disposition.h"
#include "util/fname.h"

enum { ROUNDS = 20000, MAXLEN = 600 };

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Random text biased toward the characters parsers care about. */
static void random_text(char *buf, size_t cap)
{
    static const char interesting[] = "\"\\;=*'%./ \t-_aAzZ09\xc3\xa9\xe2\x82\xac\xff\x80";
    size_t len = (size_t)(next() % (cap - 1));
    for (size_t i = 0; i < len; i++) {
        uint64_t r = next();
        buf[i] = (r & 3) ? interesting[(r >> 2) % (sizeof interesting - 1)]
                         : (char)(1 + (r >> 8) % 255);
    }
    buf[len] = '\0';
}

static const char *SEEDS[] = {
    "attachment; filename=\"a.txt\"",
    "attachment; filename*=UTF-8''%e2%82%ac%20rates; filename=\"x\"",
    "inline; filename=plain name.bin",
    "bytes 0-99/1000",
    "bytes */5000",
    "http://h/a/b/c%20d.mp4?x=y#z",
};

/* A seed with a few random bytes changed, inserted or cut. */
static void mutated_seed(char *buf, size_t cap)
{
    const char *s = SEEDS[next() % (sizeof SEEDS / sizeof SEEDS[0])];
    size_t len = strlen(s);
    memcpy(buf, s, len + 1);
    int edits = 1 + (int)(next() % 4);
    for (int e = 0; e < edits && len > 0; e++) {
        size_t at = (size_t)(next() % len);
        switch (next() % 3) {
        case 0: buf[at] = (char)(1 + next() % 255); break;
        case 1: len = at; buf[len] = '\0'; break;
        default:
            if (len + 1 < cap) {
                memmove(buf + at + 1, buf + at, len - at + 1);
                buf[at] = (char)(1 + next() % 255);
                len++;
            }
        }
    }
}

static void assert_safe_name(const char *name)
{
    assert_true(name[0] != '\0' && name[0] != '.');
    assert_true(strlen(name) <= FNAME_MAX);
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        assert_true(*p >= 0x20 && *p != 0x7f && *p != '/' && *p != '\\');
}

static void one_input(const char *in)
{
    char out[FNAME_MAX + 1], raw[1024], num[FNAME_MAX + 1];
    assert_int_equal(fname_sanitize(in, out, sizeof out), 0);
    assert_safe_name(out);
    assert_int_equal(fname_numbered(out, 7, num, sizeof num), 0);
    assert_true(strlen(num) <= FNAME_MAX);
    if (fname_from_url(in, out, sizeof out) == 0)
        assert_safe_name(out);
    if (disposition_filename(in, raw, sizeof raw) == 0) {
        assert_true(raw[0] != '\0');
        assert_int_equal(fname_sanitize(raw, out, sizeof out), 0);
        assert_safe_name(out);
    }
    int64_t first, total;
    if (parse_content_range(in, &first, &total) == 0)
        assert_true(first >= -1 && total >= -1);
}

static void random_inputs(void **s)
{
    (void)s;
    char buf[MAXLEN];
    for (int i = 0; i < ROUNDS; i++) {
        random_text(buf, sizeof buf);
        one_input(buf);
    }
}

static void mutated_inputs(void **s)
{
    (void)s;
    char buf[MAXLEN];
    for (int i = 0; i < ROUNDS; i++) {
        mutated_seed(buf, sizeof buf);
        one_input(buf);
    }
}

/* Inputs in exact-size heap blocks, so a read past the end is caught. */
static void exact_size_inputs(void **s)
{
    (void)s;
    char buf[MAXLEN];
    for (int i = 0; i < ROUNDS / 4; i++) {
        if (i % 2)
            random_text(buf, sizeof buf);
        else
            mutated_seed(buf, sizeof buf);
        size_t n = strlen(buf) + 1;
        char *heap = malloc(n);
        assert_non_null(heap);
        memcpy(heap, buf, n);
        one_input(heap);
        free(heap);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_inputs),
        cmocka_unit_test(mutated_inputs),
        cmocka_unit_test(exact_size_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
