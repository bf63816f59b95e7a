#!/usr/bin/env python3
"""sargas-replaycam's options for bench/motion.sh: --clips (one file per camera, looped on the
UTC frame clock) and --sub-rate (a sub stream at fewer frames per second). Records what it
serves with ffmpeg (-c copy) and reads the frames' SEI counters with mp4inspect."""
import os
import subprocess
import tempfile

from harness import BUILD, MEDIA, check, poll, run, mp4inspect

REPLAYCAM = os.path.join(BUILD, "sargas-replaycam")
X264 = "keyint=%d:min-keyint=%d:scenecut=0:open-gop=0:repeat-headers=1"


def ffmpeg(*args):
    r = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"] + list(args),
                       capture_output=True, text=True, timeout=300)
    check(r.returncode == 0, "ffmpeg %s failed: %s" % (" ".join(args), r.stderr[-500:]))


class Replaycam:
    def __init__(self, tmp, *args):
        self.out = os.path.join(tmp, "replaycam.out")
        self.log = os.path.join(tmp, "replaycam.log")
        with open(self.out, "w") as out, open(self.log, "w") as log:
            self.p = subprocess.Popen([REPLAYCAM, "--port", "0"] + list(args), stdout=out, stderr=log)
        self.port = None

        def ready():
            with open(self.out) as f:
                for line in f:
                    if line.startswith("replaycam: ready "):
                        self.port = int(line.split()[2].rsplit(":", 1)[1].strip("/"))
                        return True
            check(self.p.poll() is None, "replaycam exited: %s" % open(self.log).read()[-500:])
            return False
        poll(ready, 30, "replaycam ready")

    def url(self, path):
        return "rtsp://127.0.0.1:%d/%s" % (self.port, path)

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=30)


def record(url, path, seconds):
    ffmpeg("-rtsp_transport", "tcp", "-i", url, "-c", "copy", "-t", str(seconds), "-f", "mp4", path)
    return mp4inspect.inspect(path)["samples"]


def test_clips_loop_on_the_frame_clock():
    """Camera K serves DIR/camK.h264 at both paths; frame c is access unit c mod the clip's length."""
    with tempfile.TemporaryDirectory(prefix="sg-it-replaycam-") as tmp:
        clips = os.path.join(tmp, "clips")
        os.makedirs(clips)
        # 100 frames: a busy first GOP (big frames), a flat grey second one (tiny frames)
        ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=2", "-f", "lavfi", "-i",
               "color=c=gray:s=320x240:r=25:d=2", "-filter_complex", "[0:v][1:v]concat=n=2:v=1,format=yuv420p",
               "-c:v", "libx264", "-preset", "veryfast", "-bf", "0", "-x264-params", X264 % (50, 50),
               "-f", "h264", os.path.join(clips, "cam1.h264"))
        # a clip that is not a whole number of GOPs is refused with a message
        ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=1.2", "-c:v", "libx264", "-preset", "veryfast",
               "-bf", "0", "-x264-params", X264 % (50, 50), "-f", "h264", os.path.join(tmp, "cam1.h264"))
        bad = subprocess.run([REPLAYCAM, "--cameras", "1", "--port", "0", "--clips", tmp],
                             capture_output=True, text=True, timeout=30)
        check(bad.returncode == 2 and "multiple of 50" in bad.stderr,
              "a 30-frame clip: exit %d, %r" % (bad.returncode, bad.stderr[-300:]))

        rc = Replaycam(tmp, "--cameras", "1", "--clips", clips)
        try:
            for stream in ("main", "sub"):
                samples = record(rc.url("cam1/" + stream), os.path.join(tmp, stream + ".mp4"), 5)
                check(len(samples) >= 100, "%s: %d frames in 5 s" % (stream, len(samples)))
                check(samples[0]["keyframe"] and samples[0]["counter"] % 50 == 0,
                      "%s starts at an IDR on the 2 s grid: %r" % (stream, samples[0]))
                for a, b in zip(samples, samples[1:]):
                    check(b["counter"] == a["counter"] + 1, "%s: counters %d, %d" % (stream, a["counter"], b["counter"]))
                for s in samples:
                    busy = s["counter"] % 100 < 50
                    check(s["keyframe"] == (s["counter"] % 50 == 0), "%s: IDR at counter %d" % (stream, s["counter"]))
                    # the grey GOP's P frames are a few dozen bytes (SEI included), testsrc2's kilobytes
                    if not s["keyframe"]:
                        check((s["size"] > 400) == busy,
                              "%s: frame %d (%d bytes) is not access unit %d of the clip"
                              % (stream, s["counter"], s["size"], s["counter"] % 100))
            probe = subprocess.run(["ffprobe", "-v", "error", "-rtsp_transport", "tcp", rc.url("cam2/main")],
                                   capture_output=True, text=True, timeout=30)
            check(probe.returncode != 0 and "404" in probe.stderr, "camera 2 of 1: %r" % probe.stderr[-200:])
        finally:
            rc.stop()


def test_sub_rate():
    """--sub-rate 10: the sub stream sends its 10 frames a second 100 ms apart (RTP time), the main 25."""
    with tempfile.TemporaryDirectory(prefix="sg-it-replaycam-") as tmp:
        media = os.path.join(tmp, "media")
        os.makedirs(media)
        os.symlink(os.path.join(os.path.abspath(MEDIA), "main.h264"), os.path.join(media, "main.h264"))
        ffmpeg("-f", "h264", "-r", "25", "-i", os.path.join(MEDIA, "sub.h264"), "-vf", "fps=10", "-frames:v", "300",
               "-c:v", "libx264", "-preset", "superfast", "-bf", "0", "-x264-params", X264 % (20, 20),
               "-f", "h264", os.path.join(media, "sub.h264"))
        wrong = subprocess.run([REPLAYCAM, "--cameras", "1", "--port", "0", "--media", media],
                               capture_output=True, text=True, timeout=30)
        check(wrong.returncode == 2 and "expected 750" in wrong.stderr,
              "a 10 fps sub.h264 at the default rate: exit %d, %r" % (wrong.returncode, wrong.stderr[-300:]))
        rc = Replaycam(tmp, "--cameras", "2", "--media", media, "--sub-rate", "10")
        try:
            sub = record(rc.url("cam2/sub"), os.path.join(tmp, "sub.mp4"), 6)
            check(55 <= len(sub) <= 61, "sub: %d frames in 6 s at 10/s" % len(sub))
            check(sub[0]["keyframe"], "sub starts at an IDR")
            for a, b in zip(sub, sub[1:]):
                # counter f is sent when UTC time enters f / 10 s, on the first 40 ms tick in it
                check(b["counter"] == a["counter"] + 1, "sub: counters %d, %d" % (a["counter"], b["counter"]))
                check(b["keyframe"] == (b["counter"] % 20 == 0), "sub: IDR at frame %d" % b["counter"])
                check(60000 <= b["send_us"] - a["send_us"] <= 140000,
                      "sub: frames sent %d ms apart" % ((b["send_us"] - a["send_us"]) // 1000))
                # RTP time: 100 ms a frame (ffmpeg gives the first two frames of a recording the same time)
                if a is not sub[0]:
                    check(abs(b["pts"] - a["pts"] - 0.1) < 0.002, "sub: frames %.3f s apart" % (b["pts"] - a["pts"]))
            span = sub[-1]["send_us"] - sub[0]["send_us"]
            check(abs(span / (len(sub) - 1) - 100000) < 5000, "sub: %.1f ms a frame on average" % (span / (len(sub) - 1) / 1000))
            main = record(rc.url("cam2/main"), os.path.join(tmp, "main.mp4"), 3)
            check(70 <= len(main) <= 76, "main: %d frames in 3 s at 25/s" % len(main))
        finally:
            rc.stop()


if __name__ == "__main__":
    if not os.path.exists(os.path.join(MEDIA, "sub.h264")):
        print("SKIP: no media in %s (scripts/gen-media.sh)" % MEDIA)
        raise SystemExit(77)
    run(test_clips_loop_on_the_frame_clock)
    run(test_sub_rate)
