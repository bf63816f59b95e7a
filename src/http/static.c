/* The console's static files, from web_root. The URL path (already percent-decoded by the
 * HTTP library, so an encoded slash is a slash here) is checked component by component, then
 * resolved with realpath and must stay under web_root: no '..', no symlink out, no hidden
 * files, no absolute tricks. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "http/http_int.h"

static const char *mime_of(const char *path)
{
    static const struct { const char *ext, *type; } t[] = {
        { ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
        { ".mjs", "text/javascript; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
        { ".json", "application/json" }, { ".svg", "image/svg+xml" }, { ".png", "image/png" },
        { ".ico", "image/x-icon" }, { ".txt", "text/plain; charset=utf-8" }, { ".map", "application/json" },
        { ".woff2", "font/woff2" },
    };
    const char *dot = strrchr(path, '.');

    for (size_t i = 0; dot && i < sizeof(t) / sizeof(t[0]); i++)
        if (!strcmp(dot, t[i].ext))
            return t[i].type;
    return "application/octet-stream";
}

/* Only plain names: letters, digits, '-', '_', '.', not starting with '.'. */
static int safe_path(const char *p)
{
    int at_start = 1;

    if (p[0] != '/' || strlen(p) > 512)
        return 0;
    for (const char *c = p + 1; *c; c++) {
        if (*c == '/') {
            if (at_start)
                return 0; /* empty component */
            at_start = 1;
            continue;
        }
        if (at_start && *c == '.')
            return 0;
        at_start = 0;
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_' || *c == '.'))
            return 0;
    }
    return 1;
}

int sg_static_file(struct sg_req *r, const char *path)
{
    char joined[PATH_MAX], real[PATH_MAX];
    struct stat st;
    struct MHD_Response *resp;
    int fd;

    if (!strcmp(path, "/"))
        path = "/index.html";
    if (!r->srv->web_root[0] || !safe_path(path))
        return sg_reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no such file");
    if (snprintf(joined, sizeof(joined), "%s%s", r->srv->web_root, path) >= (int)sizeof(joined) ||
        sg_path_resolve_under(r->srv->web_root, joined, real) < 0)
        return sg_reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no such file");
    fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return sg_reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no such file");
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return sg_reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no such file");
    }
    resp = MHD_create_response_from_fd_at_offset64((uint64_t)st.st_size, fd, 0);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", mime_of(real));
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
                            "worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    return sg_reply(r, MHD_HTTP_OK, resp);
}
