/* fs: small file-system helpers with errno-preserving failure. */
#ifndef HAUL_UTIL_FS_H
#define HAUL_UTIL_FS_H

#include <stddef.h>
#include <stdint.h>

/* Creates dir and its missing parents (mode 0755). Returns 0 or -1/errno. */
int fs_mkdirs(const char *dir);

/* Writes data to path atomically: a temporary sibling, then rename.
 * Returns 0 or -1/errno. */
int fs_write_atomic(const char *path, const void *data, size_t len);

/* Reads a whole small file (at most max bytes) into a new NUL-terminated
 * buffer the caller frees. Returns NULL/errno on failure or when larger. */
char *fs_read_small(const char *path, size_t max);

/* Removes a folder and the plain files directly inside it (a job's temp
 * folder has no sub-folders). Missing is fine. Returns 0 or -1/errno. */
int fs_remove_flat_dir(const char *dir);

/* Removes a file, or a folder of plain files, without making the caller
 * wait for its size (unlinking a GiB takes 100-400 ms on ext4): renames it
 * to a hidden sibling at once, then deletes that on a detached helper
 * thread, which also removes the parent folder if that is left empty.
 * Missing is fine. Returns 0 when path is gone from view, -1/errno when it
 * could not even be renamed (then nothing changed). */
int fs_discard(const char *path);

/* Size of the file at path, 0 when it does not exist, -1 on other errors. */
int64_t fs_size(const char *path);

/* Absolute form of path (which need not exist) without resolving links:
 * prefixes the working directory and removes "." components. Returns a
 * new string the caller frees, or NULL. */
char *fs_absolute(const char *path);

#endif
