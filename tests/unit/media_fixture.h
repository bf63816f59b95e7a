/* Test media for the playback and export tests: the generated Annex B files
 * (scripts/gen-media.sh: 25 fps, an IDR every 50 frames, one slice per picture) split into
 * access units, and fMP4 segment files written with the recorder's own writer (record/fmp4.c). */
#ifndef SG_TEST_MEDIA_FIXTURE_H
#define SG_TEST_MEDIA_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "playback/playback.h"

#define GOP 50
#define FRAME_TICKS 3600                /* 25 fps at 90 kHz */

struct au {
    uint8_t *data;                      /* length-prefixed NAL units */
    size_t size;
    int key;
};

struct media {
    struct sg_codec_params p;
    struct au *aus;
    int n;
};

/* Splits the first max_bytes of a file of the media directory (SG_MEDIA_DIR, else
 * SG_TEST_MEDIA_DIR) into access units; the last, possibly cut, AU is dropped. Returns 0, or
 * -1 when the file is missing or does not start with a keyframe. */
int media_load(const char *name, size_t max_bytes, struct media *m);
void media_free(struct media *m);
/* The first AU of fragment i of a segment made by media_segment (GOPs taken in turn). */
int media_first_au(const struct media *m, int i);
/* Appends fragment seq (one GOP from AU first, dts, UTC utc) to b. 0 or a negative code. */
int media_add_frag(struct sg_buf *b, const struct media *m, int first, uint32_t seq, uint64_t dts,
                   int64_t utc);
/* A segment of n GOPs (init segment first) into *out; fragment i starts at UTC starts[i], dts
 * contiguous. 0 or a negative code. */
int media_segment(const struct media *m, const int64_t *starts, int n, struct sg_buf *out);
/* Writes len bytes to path (created 0600 or truncated). 0 or -1. */
int media_write_file(const char *path, const void *data, size_t len);

#endif
