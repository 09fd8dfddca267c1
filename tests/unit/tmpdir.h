/* tmpdir: a private temp folder for a cmocka test group, in `root`;
 * removed with everything in it after the group. Include once per test
 * program, after cmocka.h; pass tmpdir_setup/tmpdir_teardown to
 * cmocka_run_group_tests. */
#ifndef HAUL_TESTS_TMPDIR_H
#define HAUL_TESTS_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

static char root[256];

static int tmpdir_setup(void **s)
{
    (void)s;
    snprintf(root, sizeof root, "%s/haul-test.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(root) ? 0 : -1;
}

static int tmpdir_teardown(void **s)
{
    (void)s;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
