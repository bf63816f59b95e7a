#include "base/err.h"

#include <string.h>

const char *sg_strerror(int err)
{
    switch (err) {
    case 0:                return "success";
    case SG_E_PROTO:       return "protocol violation by peer";
    case SG_E_CONFIG:      return "invalid configuration";
    case SG_E_UNSUPPORTED: return "not supported";
    case SG_E_AUTH:        return "authentication refused";
    case SG_E_TOOBIG:      return "input exceeds limit";
    case SG_E_CORRUPT:     return "stored data is damaged";
    case SG_E_NOTFOUND:    return "not found";
    case SG_E_EXISTS:      return "already exists";
    case SG_E_FULL:        return "storage full and nothing deletable";
    case SG_E_CATALOG:     return "catalog error";
    case SG_E_URL:         return "URL refused";
    case SG_E_STATUS:      return "peer answered with an error status";
    default:
        break;
    }
    if (err < 0 && err > -4096)
        return strerror(-err); /* glibc returns a static "Unknown error" for odd values */
    return "unknown error";
}
