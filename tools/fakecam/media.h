/* tools/fakecam: in-memory test media (H.264/H.265 Annex B) and the
 * fakecam SEI message.
 *
 * tools/fakecam is a standalone test program, not part of the daemon; its
 * names shared between files use the fc_ prefix.
 */
#ifndef FAKECAM_MEDIA_H
#define FAKECAM_MEDIA_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define FC_LOOP_FRAMES 750 /* frames in every media file (30 s at 25 fps) */
#define FC_GOP         50  /* an IDR every FC_GOP frames, starting at 0 */
#define FC_FRAME_US    40000
#define FC_SEI_MAX     96  /* bytes fc_sei_build() may write at most */

enum fc_codec { FC_H264, FC_H265 };

/* One access unit (one frame) of a media file. */
struct fc_au {
    size_t off;       /* offset of the AU's first start code in the file */
    size_t len;       /* AU length in bytes, start codes included */
    size_t slice_off; /* offset of the first VCL NAL's start code, relative to off */
    int idr;
};

/* A media file loaded once and shared, read-only, by every camera.
 * Reference counted: buffers in flight in GStreamer may hold references. */
struct fc_media {
    enum fc_codec codec;
    char *path;
    uint8_t *data;
    size_t size;
    struct fc_au *aus;
    size_t n_aus;
    atomic_int refs; /* use fc_media_ref/unref */
};

/* Splits an Annex B stream into access units. An AU begins at the first
 * prefix non-VCL NAL (AUD, parameter sets, SEI, ...) that follows a VCL NAL,
 * or at a slice that is the first of its picture when no such NAL precedes it.
 * *aus is allocated (caller frees with free()). Returns 0 or -EINVAL when the
 * data holds no picture, -ENOMEM. */
int fc_annexb_split(const uint8_t *data, size_t size, enum fc_codec codec,
                    struct fc_au **aus, size_t *n_aus);

/* Loads PATH and checks it holds FC_LOOP_FRAMES AUs with an IDR at every
 * multiple of FC_GOP. On success *out holds one reference. On failure returns
 * a negative errno (-EINVAL for bad content) and writes a message to stderr. */
int fc_media_load(const char *path, enum fc_codec codec, struct fc_media **out);
/* The same with frames AUs (0: any positive multiple of gop) and an IDR exactly every gop
 * (> 0): sargas-replaycam's clips and streams at other frame rates. */
int fc_media_load_shaped(const char *path, enum fc_codec codec, size_t frames, size_t gop,
                         struct fc_media **out);
struct fc_media *fc_media_ref(struct fc_media *m);
/* Drops one reference; frees on the last one. Accepts NULL, sets *m to NULL. */
void fc_media_unref(struct fc_media **m);

/* Writes the fakecam SEI NAL unit with its 4-byte start code into out (at
 * least FC_SEI_MAX bytes): one user_data_unregistered message (payloadType 5,
 * size 32): UUID "SARGAS-FAKECAM-1", the counter and send_us as 64-bit big
 * endian, with emulation prevention applied. Returns the length written. */
size_t fc_sei_build(enum fc_codec codec, uint64_t counter, uint64_t send_us,
                    uint8_t *out);

/* Command-line helpers shared by both camera tools. */
/* Parses a decimal long in [min, max]; 0 or -EINVAL. */
int fc_parse_long(const char *s, long min, long max, long *out);
/* The directory 'media' next to the executable, into buf; 0 or -errno. */
int fc_default_media_dir(char *buf, size_t size);
/* Resolves the media directory when --media was not given: $SG_MEDIA_DIR, else the 'media'
 * directory next to the executable (into buf). 0, or -EINVAL after a message on stderr. */
int fc_media_dir_resolve(const char *prog, const char **dir, char *buf, size_t size);

#endif
