/* Playback: reading recorded segment files back for viewers. Everything here works on our own
 * fragmented-MP4 segment files (see record/fmp4.h: ftyp + moov, then prft + moof + mdat per
 * fragment, one fragment = one GOP) and never writes to them.
 *
 *   index.c     fragment index of a segment file (byte ranges and times of every fragment),
 *               built incrementally (a file still being recorded is re-read from where the last
 *               scan stopped), and a small thread-safe LRU cache of indexes.
 *   hls.c       HLS (RFC 8216) media playlists with fMP4 byte ranges inside recorded files.
 *   export.c    a range of recordings as one plain (progressive, faststart) MP4, remuxed with
 *               libavformat, without transcoding.
 *   snapshot.c  a JPEG of the last frame of a run of access units (libavcodec decode + mjpeg).
 *   onvif_export.c, onvif_verify.c
 *               a range of recordings as an ONVIF Export File (fragmented MP4 sealed with an
 *               RSASSA-PSS signature and an X.509 certificate, OpenSSL), and its verifier;
 *               see docs/ONVIF-EXPORT.md.
 *
 * Times: utc_us are UTC microseconds since the epoch; dts/duration are 90 kHz ticks. */
#ifndef SG_PLAYBACK_PLAYBACK_H
#define SG_PLAYBACK_PLAYBACK_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "catalog/catalog.h"
#include "ingest/h26x.h"

/* ---- index.c ---- */

struct sg_frag {
    int64_t offset;    /* first byte of the fragment (its prft box, else its moof) */
    int64_t size;      /* up to the next fragment or the end of the last complete mdat */
    int64_t dts;       /* tfdt, 90 kHz, on the segment's own timeline (starts near 0) */
    int64_t duration;  /* sum of the fragment's sample durations, 90 kHz */
    int64_t utc_us;    /* wall-clock of the first sample (from prft) */
    int samples;
};

struct sg_frag_index {
    int64_t init_size;     /* ftyp + moov occupy [0, init_size) */
    int codec;             /* enum sg_codec */
    int width, height;
    char rfc6381[48];      /* codecs= string, e.g. "avc1.640028" / "hvc1.1.6.L120.90" (an
                              H.265 string with all six constraint bytes needs 40) */
    struct sg_frag *frags; /* malloc'd, ordered by offset */
    int n, cap;
    int64_t scanned_to;    /* bytes of the file examined (the end of the last complete fragment) */
    uint8_t *config;       /* malloc'd avcC / hvcC payload (decoder configuration record) */
    size_t config_len;
};

/* 90 kHz ticks to microseconds, without overflow for any tick count a file can hold. */
static inline int64_t sg_ticks_to_us(int64_t t)
{
    return t / 90000 * 1000000 + t % 90000 * 1000000 / 90000;
}
/* Wall-clock end of a fragment. */
static inline int64_t sg_frag_end_us(const struct sg_frag *f)
{
    return f->utc_us + sg_ticks_to_us(f->duration);
}

/* Brings idx up to date with the file open on fd (size file_size): the first call (idx zeroed)
 * reads the init segment, later calls only parse fragments after idx->scanned_to. A torn tail
 * (incomplete fragment) is not an error: it stays unscanned. Returns 0, SG_E_CORRUPT when the
 * file is not one of ours, or -errno. */
int sg_frag_index_update(int fd, int64_t file_size, struct sg_frag_index *idx);
void sg_frag_index_free(struct sg_frag_index *idx); /* frees frags, zeroes idx */
/* Deep copy of src into dst (dst is overwritten, not freed). Returns 0 or -ENOMEM. */
int sg_frag_index_copy(struct sg_frag_index *dst, const struct sg_frag_index *src);
/* Parameter sets (and picture size) from the file's avcC / hvcC, for decoding its samples.
 * Returns 0, or SG_E_CORRUPT / SG_E_UNSUPPORTED. */
int sg_frag_index_params(const struct sg_frag_index *idx, struct sg_codec_params *p);
/* Index of the fragment containing utc_us (the last one starting at or before it; 0 when
 * utc_us is before the first); -1 when the index is empty. */
int sg_frag_index_find(const struct sg_frag_index *idx, int64_t utc_us);

/* The samples of one fragment, read back from the file. */
struct sg_frag_sample {
    const uint8_t *data;   /* borrowed from the sg_frag_data: length-prefixed NAL units */
    uint32_t size;
    uint32_t duration;     /* 90 kHz */
    int64_t dts;           /* 90 kHz, on the segment's timeline */
    int key;
};
struct sg_frag_data {
    uint8_t *buf;          /* the fragment's bytes, malloc'd */
    size_t len;
    struct sg_frag_sample *s; /* malloc'd, n entries */
    int n;
};
/* Reads fragment f (from an index of the file open on fd) and splits it into samples; refuses
 * (SG_E_TOOBIG) a fragment larger than max_bytes. The fragment is parsed again with the same
 * checks as the index (the file may have been changed since). Returns 0 or a negative code;
 * on success the caller frees *out with sg_frag_data_free. */
int sg_frag_read(int fd, const struct sg_frag *f, size_t max_bytes, struct sg_frag_data *out);
void sg_frag_data_free(struct sg_frag_data *d); /* accepts a zeroed one; zeroes it */

struct sg_frag_cache;
struct sg_frag_cache *sg_frag_cache_create(int capacity /* entries */);
void sg_frag_cache_destroy(struct sg_frag_cache **c);
/* Fills *out with a private copy (caller frees with sg_frag_index_free) of the index of segment
 * `segment_id` whose file is `abs_path`, updating the cached index first when the file grew.
 * Thread-safe. Returns 0 or a negative code (-ENOENT when the file is gone). */
int sg_frag_cache_get(struct sg_frag_cache *c, int64_t segment_id, const char *abs_path,
                      struct sg_frag_index *out);

/* The absolute path (abs: PATH_MAX bytes) of a recorded segment file, resolved under its
 * storage root, which must be one of roots (symlinks and '..' cannot leave it). Returns 0,
 * -ENOENT (file or root gone, or a root no longer configured) or -EACCES (resolves outside). */
int sg_segment_path(const char (*roots)[SG_ROOT_MAX], int n_roots, const struct sg_segment *seg,
                    char *abs);

/* ---- hls.c ---- */

struct sg_hls_item {
    int64_t segment_id;
    int64_t start_us, end_us;           /* the segment's span from the catalog */
    const struct sg_frag_index *idx;    /* borrowed */
};

struct sg_hls_opts {
    const char *uri_fmt;   /* printf format with one %lld (segment id), e.g.
                              "/api/v1/cameras/7/segments/%lld.mp4" */
    int64_t from_us, to_us;/* fragments overlapping [from_us, to_us) are listed */
    int live_edge;         /* 1: to_us is in the future, omit EXT-X-ENDLIST (EVENT playlist) */
    int64_t gap_us;        /* a hole longer than this between fragments is a gap (e.g. 500000) */
};

/* Appends an RFC 8216 media playlist (version 7): EXT-X-MAP with the init byte range of each
 * file, EXT-X-BYTERANGE per fragment, EXT-X-PROGRAM-DATE-TIME (UTC, millisecond RFC 3339) at the
 * start and after every discontinuity, EXT-X-DISCONTINUITY at every file change (each file has
 * its own timeline) and every gap, EXT-X-GAP is not used. Items must be ordered by start.
 * Returns the number of fragments listed (0 is valid: an empty VOD playlist) or a negative
 * code. */
int sg_hls_playlist(struct sg_buf *out, const struct sg_hls_item *items, int n,
                    const struct sg_hls_opts *o);

/* ---- export.c ---- */

struct sg_export_src {
    const char *path;      /* absolute path of a segment file */
    int64_t start_us, end_us;
};

struct sg_export_info {
    int64_t first_utc_us, last_utc_us; /* what was actually included: the start of the first
                                          frame (keyframe-aligned) and the end of the last */
    int64_t frames;
    int gaps;              /* holes > 0.5 s inside the range (kept as real time in the file) */
    int64_t bytes;
};

/* Writes the frames of [from_us, to_us) found in src (ordered by start) to out_path as one
 * progressive MP4 (moov first), starting at the keyframe at or before from_us, without
 * transcoding. The parameter sets must not change within the range (SG_E_UNSUPPORTED if they
 * do: the caller may split). Returns 0, SG_E_NOTFOUND when there is no frame in the range, or
 * a negative code; out_path is removed on failure. */
int sg_export_mp4(const struct sg_export_src *src, int n, int64_t from_us, int64_t to_us,
                  const char *out_path, struct sg_export_info *info);

/* ---- onvif_export.c, onvif_verify.c ---- */

/* The key an ONVIF export is signed with: an RSA private key (at least 2048 bits, as the
 * specification requires) and the X.509 certificate of its public key, which goes into every
 * file it signs. Opaque (OpenSSL objects). */
struct sg_onvif_signer;

/* Makes a new RSA key of `bits` (0: 3072; fewer than 2048 are refused) and a self-signed
 * certificate for it (subject CN = common_name, valid for `days` from now, 0: 10 years). When
 * key_path and cert_path are given, the key is written there as PEM (mode 0600) and the
 * certificate as PEM; an existing file is never overwritten (SG_E_EXISTS). NULL paths: the
 * signer exists only in memory. Returns 0 or a negative code; the caller destroys *out. */
int sg_onvif_signer_create(const char *key_path, const char *cert_path, const char *common_name,
                           int bits, int days, struct sg_onvif_signer **out);
/* Loads a PEM private key and its certificate (PEM or DER). Refuses (SG_E_UNSUPPORTED) a key
 * that is not RSA or shorter than 2048 bits, and (SG_E_CONFIG) a certificate that is not the
 * key's. Returns 0, -ENOENT, SG_E_CORRUPT for an unreadable file, or another negative code. */
int sg_onvif_signer_load(const char *key_path, const char *cert_path, struct sg_onvif_signer **out);
void sg_onvif_signer_destroy(struct sg_onvif_signer **s); /* accepts NULL; leaves NULL */
/* The signer's certificate, DER (borrowed from s). */
void sg_onvif_signer_cert(const struct sg_onvif_signer *s, const uint8_t **der, size_t *len);
/* Reads an X.509 certificate file (PEM or DER) as DER (malloc'd, the caller frees): 0, -ENOENT,
 * SG_E_CORRUPT when it is not a certificate, or another negative code. */
int sg_onvif_cert_read(const char *path, uint8_t **der, size_t *len);

/* What the file says about where the video comes from and who exported it (the
 * SurveillanceExportBox, and optionally an AdditionalUserInformationBox). Borrowed strings,
 * UTF-8, at most SG_ONVIF_STR_MAX bytes each; NULL is an empty string. The userinfo of a URL
 * ("user:password@") is removed before it is written. */
#define SG_ONVIF_STR_MAX 1024
struct sg_onvif_desc {
    const char *unit_name;     /* the exporting unit (this server) */
    const char *unit_url;
    const char *unit_mac;
    const char *operator_name; /* who exported */
    const char *source_name;   /* the camera */
    const char *source_url;
    const char *source_mac;
    const char *source_line;   /* input line token of a multi-channel device */
    const char *user_info;     /* NULL or "": no auib box; e.g. case number and reason */
    int64_t export_time_us;    /* when the export started, UTC; 0: now */
};

/* Writes the frames of [from_us, to_us) found in src (ordered by start) to out_path as an
 * ONVIF Export File: ftyp + moov, one moof + mdat per recorded GOP (with its prft, real time
 * kept between fragments and files, the recorded bytes and parameter sets unchanged), then the
 * file-level meta box (suep, cstb, ipro/sinf/schm 'oeff'/schi: sibo, cert[, auib]) whose
 * signature covers every byte of the file before and in it. Selection and info as
 * sg_export_mp4. Returns 0, SG_E_NOTFOUND when there is no frame in the range, -EINVAL for a
 * bad desc string, SG_E_UNSUPPORTED when the parameter sets change within the range, or another
 * negative code; out_path is removed on failure (it must not be a symlink). */
int sg_onvif_export(const struct sg_export_src *src, int n, int64_t from_us, int64_t to_us,
                    const struct sg_onvif_desc *desc, const struct sg_onvif_signer *signer,
                    const char *out_path, struct sg_export_info *info);

#define SG_ONVIF_REPORT_STR 256
struct sg_onvif_report {
    int signatures;            /* signing instances (sinf boxes) found */
    int valid;                 /* of them, with a signature that verifies */
    int trusted;               /* 1: the export's certificate is the trusted one given */
    /* the export's (first) signature */
    char subject[SG_ONVIF_REPORT_STR], issuer[SG_ONVIF_REPORT_STR];
    char cert_sha256[65];      /* hex SHA-256 of the DER certificate */
    int64_t cert_not_before_us, cert_not_after_us;
    char user_info[SG_ONVIF_REPORT_STR];
    /* suep and cstb */
    char unit_name[SG_ONVIF_REPORT_STR], unit_url[SG_ONVIF_REPORT_STR];
    char unit_mac[SG_ONVIF_REPORT_STR], operator_name[SG_ONVIF_REPORT_STR];
    char source_name[SG_ONVIF_REPORT_STR], source_url[SG_ONVIF_REPORT_STR];
    char source_mac[SG_ONVIF_REPORT_STR], source_line[SG_ONVIF_REPORT_STR];
    int64_t export_time_us;    /* 0 when absent */
    int64_t start_utc_us;      /* cstb: wall-clock of the media timeline's origin; 0: none */
    /* the media */
    int64_t fragments, frames;
    int64_t first_utc_us, last_utc_us; /* from the fragments' prft (0: none) */
    int64_t sealed_bytes;      /* bytes covered by the export's signature */
    int64_t unsealed_bytes;    /* after the meta box: an mfra, which the format leaves unsealed */
    char problem[512];         /* the first thing found wrong ("" when none) */
};

/* Checks an ONVIF Export File: its box structure, every signing instance (RSASSA-PSS, SHA-256,
 * over the file up to the end of that instance with its signature zeroed) and, when
 * trusted_der is given, that the export's certificate is that one. Reads nothing but path.
 * Returns 0 when every signature verifies (and the certificate is the trusted one, if given),
 * SG_E_CORRUPT when the file is not intact or not a valid export (rep->problem says why and
 * where), SG_E_AUTH when it is intact but signed with another certificate, SG_E_UNSUPPORTED for
 * a signature algorithm other than RSASSA-PSS, or another negative code when it could not be
 * read. */
int sg_onvif_verify(const char *path, const uint8_t *trusted_der, size_t trusted_len,
                    struct sg_onvif_report *rep);

/* ---- snapshot.c ---- */

struct sg_snapshot_au {
    const uint8_t *data;   /* length-prefixed (4-byte big-endian) NAL units, as in sg_frame */
    size_t size;
};

/* A running decoder of one stream's AUs (libavcodec, one thread), for analysis. */
struct sg_decoder;
struct sg_picture {
    const uint8_t *luma;   /* 8-bit luma plane, borrowed until the next call */
    int width, height, stride;
    int full_range;        /* luma 0..255 (JPEG range); else 16..235 (limited, most cameras) */
};
/* A decoder for the parameter sets (one thread). 0 or a negative code. */
int sg_decoder_open(const struct sg_codec_params *p, struct sg_decoder **out);
/* Decodes one length-prefixed AU (NULL: flush). Returns 1 with *pic (may be NULL) set to the
 * newest picture, 0 when no picture came out, or a negative code (a damaged AU is not an
 * error: it yields no picture). */
int sg_decoder_decode(struct sg_decoder *d, const uint8_t *au, size_t size, struct sg_picture *pic);
/* The JPEG of the newest picture (quality 1..100, scaled down to max_width when wider). */
int sg_decoder_jpeg(struct sg_decoder *d, int quality, int max_width, struct sg_buf *out);
void sg_decoder_close(struct sg_decoder **d);

/* Decodes aus[0..n) (aus[0] must be a keyframe) with parameter sets p and encodes the last
 * decoded picture as a baseline JPEG (quality 1..100) appended to out. When max_width > 0 the
 * picture is scaled down to fit. Returns 0 or a negative code. */
int sg_snapshot_jpeg(const struct sg_codec_params *p, const struct sg_snapshot_au *aus, int n,
                     int quality, int max_width, struct sg_buf *out);

#endif
