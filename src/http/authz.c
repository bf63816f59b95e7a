/* The one authorisation hook: every routed request and every static file passes here before
 * its handler runs, with the route's access kind and the camera it names ({id}).
 *
 * Accounts, roles and per-camera grants arrive with the accounts issue; until then the server
 * has a single principal, the local operator, and is meant to listen on loopback only (the
 * default). Deny by default already holds: a route whose access kind this function does not
 * know is refused, and an {id} that is not an existing camera answers 404 before any handler
 * touches it. */
#include "base/err.h"
#include "http/http_int.h"

unsigned sg_http_authorize_camera(struct sg_req *r, int access, int64_t camera_id)
{
    struct sg_camera cam;
    int rc;

    switch (access) {
    case A_CAMERA_READ:
    case A_LIVE:
    case A_PLAYBACK:
    case A_EXPORT:
        break;
    default:
        return MHD_HTTP_FORBIDDEN;
    }
    /* The camera must exist (a guessed id answers exactly like a missing one). */
    rc = sg_catalog_camera_get(r->cat, camera_id, &cam);
    if (rc == SG_E_NOTFOUND)
        return MHD_HTTP_NOT_FOUND;
    return rc < 0 ? MHD_HTTP_SERVICE_UNAVAILABLE : 0;
}

unsigned sg_http_authorize(struct sg_req *r)
{
    switch (r->route->access) {
    case A_PUBLIC:
    case A_CAMERA_LIST:
    case A_CAMERA_ADMIN:
    case A_LIVE_MANY: /* the handler authorises every camera it names (authorize_camera) */
        return 0;
    case A_CAMERA_READ:
    case A_LIVE:
    case A_PLAYBACK:
    case A_EXPORT:
        return sg_http_authorize_camera(r, r->route->access, r->id);
    default:
        return MHD_HTTP_FORBIDDEN;
    }
}
