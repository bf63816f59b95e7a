/* Writes a small ONVIF Export File with the real writer (playback/onvif_export.c), as a seed
 * for fuzz_onvif:
 *   fuzz_gen_onvif_seed IN.mp4 OUT.mp4
 * IN is a recorded segment (e.g. a corpus/scan/ seed, whose samples are placeholder bytes:
 * the verifier never decodes); all of it is exported, signed with a throw-away 2048-bit key. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "playback/playback.h"

int main(int argc, char **argv)
{
    static const struct sg_onvif_desc desc = {
        .unit_name = "seed", .operator_name = "fuzz", .source_name = "camera 1",
        .source_url = "rtsp://10.0.0.1/stream", .user_info = "seed",
        .export_time_us = 1700000000000000LL,
    };
    struct sg_onvif_signer *signer = NULL;
    struct sg_frag_index idx = { 0 };
    struct sg_export_src src;
    struct sg_export_info info;
    struct stat st;
    int fd, r;

    if (argc != 3) {
        fprintf(stderr, "usage: %s IN.mp4 OUT.mp4\n", argv[0]);
        return 2;
    }
    if ((fd = open(argv[1], O_RDONLY)) < 0 || fstat(fd, &st) < 0 ||
        sg_frag_index_update(fd, st.st_size, &idx) < 0 || idx.n == 0) {
        fprintf(stderr, "%s: not a recorded segment\n", argv[1]);
        return 1;
    }
    close(fd);
    src = (struct sg_export_src){ argv[1], idx.frags[0].utc_us, sg_frag_end_us(&idx.frags[idx.n - 1]) };
    if ((r = sg_onvif_signer_create(NULL, NULL, "fuzz seed", 2048, 1, &signer)) < 0 ||
        (r = sg_onvif_export(&src, 1, src.start_us, src.end_us, &desc, signer, argv[2], &info)) < 0) {
        fprintf(stderr, "%s: export failed (%d)\n", argv[2], r);
        return 1;
    }
    sg_onvif_signer_destroy(&signer);
    sg_frag_index_free(&idx);
    return 0;
}
