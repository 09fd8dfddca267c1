/* libFuzzer harness for every parser of untrusted text: Content-Disposition,
 * file names from servers and URLs, Content-Range, sizes and URLs from the
 * command line. Crashes, out-of-bounds reads (ASan) and broken contracts
 * (abort below) are findings. `make fuzz` builds and runs it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/resume.h"
#include "util/disposition.h"
#include "util/fname.h"
#include "util/units.h"

static void check_safe(const char *name)
{
    if (!name[0] || name[0] == '.' || strlen(name) > FNAME_MAX)
        abort();
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\')
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1); /* exact size: ASan sees any overread */
    if (!in)
        return 0;
    memcpy(in, data, size);
    in[size] = '\0';

    char out[FNAME_MAX + 1], num[FNAME_MAX + 1], raw[4096];
    if (fname_sanitize(in, out, sizeof out) == 0) {
        check_safe(out);
        if (fname_numbered(out, 12, num, sizeof num) == 0 && strlen(num) > FNAME_MAX)
            abort();
    }
    if (fname_from_url(in, out, sizeof out) == 0)
        check_safe(out);
    if (disposition_filename(in, raw, sizeof raw) == 0 && !raw[0])
        abort();
    int64_t first, total, n;
    if (parse_content_range(in, &first, &total) == 0 && (first < -1 || total < -1))
        abort();
    if (parse_size(in, &n) == 0 && n < 0)
        abort();
    free(in);
    return 0;
}
