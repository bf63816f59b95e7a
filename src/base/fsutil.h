/* File-system helpers: paths confined under a root, directory creation, durable writes. */
#ifndef SG_BASE_FSUTIL_H
#define SG_BASE_FSUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Longest storage root path (kept short: it is stored with every segment row). */
#define SG_ROOT_MAX 256

/* Joins root and a relative path, refusing absolute paths, "..", empty components and
 * anything but [A-Za-z0-9._-/]. Returns 0, -EINVAL or -ENAMETOOLONG. */
int sg_path_join(const char *root, const char *rel, char *out, size_t n);
/* Resolves `path` (symlinks, "..") into out (PATH_MAX bytes) and checks that the result lies
 * strictly under `root_real`, itself an already resolved directory. Returns 0, -ENOENT when
 * the path does not resolve, or -EACCES when it resolves outside the root. */
int sg_path_resolve_under(const char *root_real, const char *path, char *out);
/* Creates every missing directory of `path` (mode 0750). */
int sg_mkdir_p(const char *path);
/* Creates the parent directories of a file path. */
int sg_mkdir_parent(const char *file_path);
/* fsyncs the directory holding `file_path` so a create/unlink is durable. */
int sg_fsync_parent(const char *file_path);
/* Writes all of iov (retrying short writes, EINTR). Returns 0 or -errno. */
int sg_writev_all(int fd, struct iovec *iov, int iovcnt);
/* Free bytes for unprivileged users and total bytes of the file system holding `path`. */
int sg_fs_space(const char *path, int64_t *free_bytes, int64_t *total_bytes);

#endif
