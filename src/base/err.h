/* Error codes: negative errno values, plus Sargas' own codes below -10000.
 * Every function that can fail returns 0 (or a count) on success and one of these on failure. */
#ifndef SG_BASE_ERR_H
#define SG_BASE_ERR_H

enum {
    SG_E_PROTO       = -10001, /* peer violated its protocol */
    SG_E_CONFIG      = -10002, /* invalid configuration */
    SG_E_UNSUPPORTED = -10003, /* valid but not supported (codec, transport, scheme) */
    SG_E_AUTH        = -10004, /* authentication refused */
    SG_E_TOOBIG      = -10005, /* input exceeds a configured cap */
    SG_E_CORRUPT     = -10006, /* stored data is damaged */
    SG_E_NOTFOUND    = -10007, /* no such object */
    SG_E_EXISTS      = -10008, /* object already exists */
    SG_E_FULL        = -10009, /* storage full and nothing may be deleted */
    SG_E_CATALOG     = -10010, /* catalog (database) error */
    SG_E_URL         = -10011, /* URL refused */
    SG_E_STATUS      = -10012, /* peer answered with an error status */
};

/* A human readable message for any code above or any negative errno. Never NULL. */
const char *sg_strerror(int err);

#endif
