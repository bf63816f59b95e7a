#include "base/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

int sg_path_join(const char *root, const char *rel, char *out, size_t n)
{
    const char *p = rel;
    int r;

    if (!*rel || rel[0] == '/')
        return -EINVAL;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);

        if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
            return -EINVAL;
        for (size_t i = 0; i < len; i++) {
            char c = p[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-'))
                return -EINVAL;
        }
        p += len;
        if (*p == '/')
            p++;
    }
    r = snprintf(out, n, "%s/%s", root, rel);
    return (r < 0 || (size_t)r >= n) ? -ENAMETOOLONG : 0;
}

int sg_path_resolve_under(const char *root_real, const char *path, char *out)
{
    size_t rl = strlen(root_real);

    if (!realpath(path, out))
        return -ENOENT;
    if (strncmp(out, root_real, rl) || out[rl] != '/')
        return -EACCES;
    return 0;
}

int sg_mkdir_p(const char *path)
{
    char tmp[PATH_MAX];
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof(tmp))
        return -ENAMETOOLONG;
    memcpy(tmp, path, len + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static int parent_of(const char *file_path, char *dir, size_t n)
{
    const char *slash = strrchr(file_path, '/');
    size_t len;

    if (!slash)
        return -EINVAL;
    len = (size_t)(slash - file_path);
    if (len == 0)
        len = 1;
    if (len >= n)
        return -ENAMETOOLONG;
    memcpy(dir, file_path, len);
    dir[len] = 0;
    return 0;
}

int sg_mkdir_parent(const char *file_path)
{
    char dir[PATH_MAX];
    int r = parent_of(file_path, dir, sizeof(dir));

    return r < 0 ? r : sg_mkdir_p(dir);
}

int sg_fsync_parent(const char *file_path)
{
    char dir[PATH_MAX];
    int r = parent_of(file_path, dir, sizeof(dir));
    int fd;

    if (r < 0)
        return r;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    r = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return r;
}

int sg_writev_all(int fd, struct iovec *iov, int iovcnt)
{
    while (iovcnt > 0) {
        ssize_t w = writev(fd, iov, iovcnt);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (w == 0)
            return -EIO;
        while (iovcnt > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

int sg_fs_space(const char *path, int64_t *free_bytes, int64_t *total_bytes)
{
    struct statvfs s;

    if (statvfs(path, &s) < 0)
        return -errno;
    if (free_bytes)
        *free_bytes = (int64_t)s.f_bavail * (int64_t)s.f_frsize;
    if (total_bytes)
        *total_bytes = (int64_t)s.f_blocks * (int64_t)s.f_frsize;
    return 0;
}
