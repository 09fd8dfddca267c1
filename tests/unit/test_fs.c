/* Unit tests: file-system helpers (in a private temp folder). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/fs.h"

#include "tmpdir.h"

static void absolute_paths(void **s)
{
    (void)s;
    char *p = fs_absolute("/a/./b//c/");
    assert_string_equal(p, "/a/b/c");
    free(p);
    p = fs_absolute("/");
    assert_string_equal(p, "/");
    free(p);
    char cwd[1024];
    assert_non_null(getcwd(cwd, sizeof cwd));
    p = fs_absolute("./x/y");
    char want[1100];
    snprintf(want, sizeof want, "%s/x/y", strcmp(cwd, "/") ? cwd : "");
    assert_string_equal(p, want);
    free(p);
}

static void mkdirs_and_remove(void **s)
{
    (void)s;
    char dir[400], file[450];
    snprintf(dir, sizeof dir, "%s/a/b/c", root);
    assert_int_equal(fs_mkdirs(dir), 0);
    assert_int_equal(fs_mkdirs(dir), 0); /* again: fine */
    snprintf(file, sizeof file, "%s/data.part", dir);
    assert_int_equal(fs_write_atomic(file, "hello", 5), 0);
    assert_int_equal(fs_size(file), 5);
    char *text = fs_read_small(file, 100);
    assert_string_equal(text, "hello");
    free(text);
    assert_null(fs_read_small(file, 3)); /* larger than allowed */
    assert_int_equal(fs_remove_flat_dir(dir), 0);
    struct stat st;
    assert_int_not_equal(stat(dir, &st), 0);
    assert_int_equal(fs_remove_flat_dir(dir), 0); /* missing is fine */
    assert_int_equal(fs_size(file), 0);
    /* a file in the way of a folder */
    snprintf(file, sizeof file, "%s/a/b/plain", root);
    assert_int_equal(fs_write_atomic(file, "x", 1), 0);
    snprintf(dir, sizeof dir, "%s/a/b/plain/sub", root);
    assert_int_equal(fs_mkdirs(dir), -1);
}

static void discard_hides_at_once(void **s)
{
    (void)s;
    char dir[400], file[450], parent[400];
    snprintf(parent, sizeof parent, "%s/tmpd", root);
    snprintf(dir, sizeof dir, "%s/tmpd/job", root);
    assert_int_equal(fs_mkdirs(dir), 0);
    snprintf(file, sizeof file, "%s/data.part", dir);
    assert_int_equal(fs_write_atomic(file, "abc", 3), 0);
    assert_int_equal(fs_discard(dir), 0);
    struct stat st;
    assert_int_not_equal(stat(dir, &st), 0); /* gone from view on return */
    for (int i = 0; i < 200 && stat(parent, &st) == 0; i++)
        usleep(10000); /* the helper deletes it, then the empty parent */
    assert_int_not_equal(stat(parent, &st), 0);
    assert_int_equal(fs_discard(dir), 0); /* missing is fine */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(absolute_paths),
        cmocka_unit_test(mkdirs_and_remove),
        cmocka_unit_test(discard_hides_at_once),
    };
    return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
