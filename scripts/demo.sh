#!/bin/sh
# `make run`: starts the fake camera fleet (4 cameras) and sargasd recording them on the
# embedded defaults (SQLite catalog, local disk), under RUN_DIR. Ctrl-C stops both.
#   scripts/demo.sh BUILD_DIR RUN_DIR
set -eu
build=$(cd "$1" && pwd)
run=$2
port=${SG_DEMO_PORT:-8554}
http=${SG_DEMO_LISTEN:-127.0.0.1:8080}
cams=${SG_DEMO_CAMERAS:-4}

mkdir -p "$run"
run=$(cd "$run" && pwd)
conf="$run/sargas.conf"
cat > "$conf" <<CONF
# Demo configuration written by scripts/demo.sh (make run). See etc/sargas.conf.example.
storage_root = $run/media
catalog = $run/catalog.db
segment_seconds = 60
default_retain_hours = 72
storage_min_free = 2G
log_level = info
listen = $http
web_root = $build/web
key_dir = $run/keys
export_dir = $run/exports
CONF

"$build/sargas-fakecam" --cameras "$cams" --port "$port" --media "$build/media" > "$run/fakecam.log" 2>&1 &
fakecam=$!
daemon=""
cleanup() {
    [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
    kill "$fakecam" 2>/dev/null && wait "$fakecam" 2>/dev/null
    exit 0
}
trap cleanup INT TERM

i=0
until grep -q "fakecam: ready" "$run/fakecam.log" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 "$fakecam" 2>/dev/null; then
        echo "demo: the fake cameras did not start:" >&2
        cat "$run/fakecam.log" >&2
        exit 1
    fi
    sleep 0.1
done

k=1
while [ $k -le "$cams" ]; do
    if ! "$build/sargas" --config "$conf" camera list | grep -q " demo-cam$k "; then
        "$build/sargas" --config "$conf" camera add --name "demo-cam$k" \
            --main "rtsp://127.0.0.1:$port/cam$k/main" --sub "rtsp://127.0.0.1:$port/cam$k/sub" >/dev/null
    fi
    k=$((k + 1))
done

cat <<MSG
Sargas demo: $cams fake cameras on rtsp://127.0.0.1:$port/camK/{main,sub}
  console:    http://$http/   (API: http://$http/api/v1/, document: /api/v1/openapi.json)
  recordings: $run/media/<camera>/<stream>/<YYYY-MM-DD>/<HH>/<UTC start>.mp4
  catalog:    $run/catalog.db
  status:     $build/sargas --config $conf camera list
  segments:   $build/sargas --config $conf segments
  sign in:    no default password. On the first start the log below shows a one-time
              setup token: enter it in the console to create the administrator (or run
              $build/sargas --config $conf user add NAME --role admin)
  audit:      $build/sargas --config $conf audit list | audit verify
  log:        below (Ctrl-C stops the demo)
MSG
"$build/sargasd" --config "$conf" &
daemon=$!
wait "$daemon" || true
daemon=""
cleanup
