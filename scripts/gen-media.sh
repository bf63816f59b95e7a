#!/bin/sh
# Generates the synthetic test media that tools/fakecam serves.
#   scripts/gen-media.sh OUTDIR
#
# Writes main.h264 (1920x1080), sub.h264 (640x360), sub720.h264 (1280x720),
# main.h265 and sub.h265, and the motion scenes described below: H.264/H.265
# Annex B elementary streams, 25 fps, 750 frames (a 30 s loop), an IDR every
# 50 frames (closed GOP, no B-frames, parameter sets before every IDR), so the
# files loop seamlessly.
#
# Every frame shows its number (0..749) as text and as a barcode strip at the
# top-left corner: 16 blocks of 48x48 px at 1080p (scaled with the picture:
# 16x16 at 360p, 32x32 at 720p); block i is white (luma 235) when bit i of the
# frame number is 1, else black (luma 16); block 0 is the leftmost.
#
# Scenes for motion analysis, H.264 only, with the same frame count and GOP
# rules: one textured still picture with mild sensor noise (ffmpeg's noise
# filter, strength 5 on luma, a new draw every frame, so the loop joins
# seamlessly):
#   still.h264     640x360, the still scene, nothing moves
#   still720.h264  1280x720, the same scene at the larger size
#   mover.h264     640x360, the still scene and one 60x60 px checkered box
#                  moving back and forth (period 6 s across, 10 s down, both
#                  dividing the 30 s loop): its top-left corner at
#                  x = 32..228, y = 108..192 px, so the box stays inside
#                  x in [0.05, 0.45], y in [0.30, 0.70] of the picture and the
#                  rest of the picture is still
#   parked.h264    640x360, the still scene with the same box standing still at
#                  x = 130, y = 150 px (a car that parked while a camera was off)
#   bframes.h264   mover.h264 coded with 2 B frames between P frames, none of them a
#                  reference (nal_ref_idc 0; the exception to "no B-frames" above), as
#                  cameras that send non-reference frames do: the analysis leaves out
#                  those it does not analyse
# Nothing is burned in there: a counter would be motion.
#
# Idempotent: a stamp file records a hash of this script; when it matches and
# all files exist, nothing is done.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
out=$1
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
FILES="main.h264 sub.h264 sub720.h264 main.h265 sub.h265 still.h264 still720.h264 mover.h264 parked.h264 bframes.h264"
STAMP="$out/.gen-media.stamp"

version="gen-media-1 $(cksum < "$0" | cut -d' ' -f1,2)"

uptodate=1
[ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$version" ] || uptodate=0
for f in $FILES; do
    [ -s "$out/$f" ] || uptodate=0
done
[ "$uptodate" = 1 ] && exit 0

command -v ffmpeg >/dev/null 2>&1 || { echo "gen-media: ffmpeg not found (run scripts/deps.sh)" >&2; exit 1; }
[ -r "$FONT" ] || { echo "gen-media: font $FONT missing (install fonts-dejavu-core)" >&2; exit 1; }

mkdir -p "$out"
tmp="$out/.gen-media.tmp.$$"
rm -rf "$tmp"
mkdir "$tmp"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
rm -f "$STAMP"

echo "gen-media: generating test media in $out" >&2
start=$(date +%s)

# Barcode: a 768x48 picture evaluated per frame with geq (cheap at this size),
# overlaid on the 1080p scene; block i covers x in [48i, 48i+48).
strip="color=c=black:s=768x48:r=25,format=yuv420p,geq=lum='if(mod(floor(mod(N\,750)/pow(2\,floor(X/48)))\,2)\,235\,16)':cb=128:cr=128"
scene="testsrc2=s=1920x1080:r=25"
text="drawtext=fontfile=$FONT:text='frame %{frame_num}':x=40:y=80:fontsize=64:fontcolor=white:box=1:boxcolor=black"

X264="keyint=50:min-keyint=50:scenecut=0:open-gop=0:repeat-headers=1"
X265="log-level=error:keyint=50:min-keyint=50:scenecut=0:open-gop=0:bframes=0:repeat-headers=1"

# One process, one source, five encoders: the scene is rendered only once.
ffmpeg -nostdin -hide_banner -loglevel error -y \
    -f lavfi -i "$scene" -f lavfi -i "$strip" \
    -filter_complex "[0:v]format=yuv420p,${text}[bg];[bg][1:v]overlay=0:0:format=yuv420,split=5[m4][s4][t4][m5][s5];[s4]scale=640:360:flags=area[s4o];[t4]scale=1280:720:flags=area[t4o];[s5]scale=640:360:flags=area[s5o]" \
    -map '[m4]' -frames:v 750 -c:v libx264 -preset superfast -bf 0 \
        -b:v 4M -maxrate 4M -bufsize 4M -x264-params "$X264" -f h264 "$tmp/main.h264" \
    -map '[s4o]' -frames:v 750 -c:v libx264 -preset superfast -bf 0 \
        -b:v 600k -maxrate 600k -bufsize 600k -x264-params "$X264" -f h264 "$tmp/sub.h264" \
    -map '[t4o]' -frames:v 750 -c:v libx264 -preset superfast -bf 0 \
        -b:v 2M -maxrate 2M -bufsize 2M -x264-params "$X264" -f h264 "$tmp/sub720.h264" \
    -map '[m5]' -frames:v 750 -c:v libx265 -preset ultrafast \
        -b:v 4M -maxrate 4M -bufsize 4M -x265-params "$X265" -f hevc "$tmp/main.h265" \
    -map '[s5o]' -frames:v 750 -c:v libx265 -preset ultrafast \
        -b:v 600k -maxrate 600k -bufsize 600k -x265-params "$X265" -f hevc "$tmp/sub.h265"

# The motion scenes: the picture is rendered once (geq on one frame: window rows
# in the top 42 %, diagonal texture and a vertical gradient below) and looped;
# the 640x360 scenes are its downscale, so still720 and still show the same scene.
# Reproducible: the noise filter's seed is fixed, and the encoders run single-threaded
# (x264's rate control with threads makes slightly different files from run to run; this
# costs about 1.5 s).
picture="color=c=gray:s=1280x720:r=25:d=0.04,format=yuv420p,geq=lum='clip(40+110*Y/H+28*sin(2*PI*X/W*23)*sin(2*PI*Y/H*13)+22*sin(2*PI*(7*X/W+3*Y/H))+if(lt(Y/H\,0.42)*lt(mod(X/W*9\,1)\,0.55)\,35*if(lt(mod(X/W*90\,1)\,0.5)*lt(mod(Y/H*40\,1)\,0.5)\,1\,-0.4)\,0)\,16\,235)':cb='128+12*sin(2*PI*X/W*3)':cr='128+10*cos(2*PI*Y/H*2)'"
box="color=c=black:s=60x60:r=25:d=0.04,format=yuv420p,geq=lum='if(mod(floor(X/10)+floor(Y/10)\,2)\,225\,30)':cb=100:cr=170"
noise="noise=c0s=5:c0f=t"
movex="32+196*(0.5-0.5*cos(2*PI*n/150))"
movey="108+84*(0.5-0.5*cos(2*PI*n/250))"
ffmpeg -nostdin -hide_banner -loglevel error -y \
    -f lavfi -i "$picture" -f lavfi -i "$box" \
    -filter_complex "[0:v]loop=loop=-1:size=1,split=2[p720][p];[p]scale=640:360:flags=area,split=3[ps][pm][pp];[1:v]loop=loop=-1:size=1,split=2[b1][b2];[ps]${noise}[so];[p720]${noise}[to];[pm][b1]overlay=x='${movex}':y='${movey}':eval=frame,${noise},split=2[mo][mb];[pp][b2]overlay=x=130:y=150,${noise}[po]" \
    -map '[so]' -frames:v 750 -c:v libx264 -threads 1 -preset superfast -bf 0 \
        -b:v 800k -maxrate 800k -bufsize 800k -x264-params "$X264" -f h264 "$tmp/still.h264" \
    -map '[to]' -frames:v 750 -c:v libx264 -threads 1 -preset superfast -bf 0 \
        -b:v 2M -maxrate 2M -bufsize 2M -x264-params "$X264" -f h264 "$tmp/still720.h264" \
    -map '[mo]' -frames:v 750 -c:v libx264 -threads 1 -preset superfast -bf 0 \
        -b:v 800k -maxrate 800k -bufsize 800k -x264-params "$X264" -f h264 "$tmp/mover.h264" \
    -map '[po]' -frames:v 750 -c:v libx264 -threads 1 -preset superfast -bf 0 \
        -b:v 800k -maxrate 800k -bufsize 800k -x264-params "$X264" -f h264 "$tmp/parked.h264" \
    -map '[mb]' -frames:v 750 -c:v libx264 -threads 1 -preset superfast -bf 2 \
        -b:v 800k -maxrate 800k -bufsize 800k -x264-params "$X264:b-pyramid=none:b-adapt=0" -f h264 "$tmp/bframes.h264"

for f in $FILES; do
    [ -s "$tmp/$f" ] || { echo "gen-media: $f was not produced" >&2; exit 1; }
done
for f in $FILES; do
    mv -f "$tmp/$f" "$out/$f"
done
echo "$version" > "$STAMP"
echo "gen-media: done in $(( $(date +%s) - start )) s" >&2
