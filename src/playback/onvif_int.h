/* Constants of the ONVIF Export File Format shared by its writer (onvif_export.c) and verifier
 * (onvif_verify.c). Section numbers: ONVIF Export File Format Specification, see
 * docs/ONVIF-EXPORT.md. Internal to playback. */
#ifndef SG_PLAYBACK_ONVIF_INT_H
#define SG_PLAYBACK_ONVIF_INT_H

#include <stdint.h>

#define SG_ONVIF_SCHEME_TYPE 0x6f656666u    /* 'oeff': Onvif Export File Format (schm) */
#define SG_ONVIF_SCHEME_VERSION 0x00010000u /* version 1 */
#define SG_ONVIF_RSA_MIN_BITS 2048          /* "an RSA modulus length of at least 2048 bits" */
#define SG_ONVIF_PSS_SALT 20                /* "Salt length 20" */
#define SG_ONVIF_TRACK_ID 1                 /* our one video track */
#define SG_ONVIF_EPOCH_1904_S 2082844800LL  /* 1904-01-01 to 1970-01-01 (ISO BMFF times) */
#define SG_ONVIF_EPOCH_1601_S 11644473600LL /* 1601-01-01 to 1970-01-01 (cstb) */

/* cstb's startTime: 100-nanosecond intervals since 1601-01-01 UTC. */
static inline uint64_t sg_onvif_filetime(int64_t utc_us)
{
    return (uint64_t)(utc_us + SG_ONVIF_EPOCH_1601_S * 1000000) * 10;
}
static inline int64_t sg_onvif_utc_from_filetime(uint64_t ft)
{
    return (int64_t)(ft / 10) - SG_ONVIF_EPOCH_1601_S * 1000000;
}

#endif
