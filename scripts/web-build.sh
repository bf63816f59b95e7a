#!/bin/sh
# Builds the operators' console into OUT_DIR (sargasd serves it as static files):
#   scripts/web-build.sh OUT_DIR
# web/index.html, web/css and web/js are copied as they are (plain ES modules, no bundler);
# hls.js, the only runtime dependency, comes from web/node_modules (npm ci, pinned in
# web/package-lock.json) and lands in OUT_DIR/vendor/ with its licence.
# npm runs only when node_modules is missing or older than the lock file; files are copied
# only when they changed, so a second call costs next to nothing.
set -eu

[ $# -eq 1 ] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
web=$(cd "$(dirname "$0")/../web" && pwd)
out=$1

fail() { echo "web-build: $*" >&2; exit 1; }

stamp="$web/node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ "$web/package-lock.json" -nt "$stamp" ]; then
    command -v npm >/dev/null 2>&1 || fail "npm is missing (run scripts/deps.sh build)"
    echo "web-build: npm ci in $web" >&2
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed"
    # npm ci keeps the lock file's mtime; touch the stamp so the next call skips npm.
    touch "$stamp"
fi

hls="$web/node_modules/hls.js"
[ -f "$hls/dist/hls.min.js" ] || fail "$hls/dist/hls.min.js is missing"
[ -f "$hls/LICENSE" ] || fail "$hls/LICENSE is missing"

mkdir -p "$out/css" "$out/js" "$out/vendor"

# copy SRC DST: only when the content differs (keeps mtimes, and so browser caches, stable).
copy() {
    if ! cmp -s "$1" "$2"; then
        cp "$1" "$2.tmp" && mv "$2.tmp" "$2" || fail "cannot write $2"
    fi
}

copy "$web/index.html" "$out/index.html"
for f in "$web"/css/*.css; do copy "$f" "$out/css/$(basename "$f")"; done
for f in "$web"/js/*.js; do copy "$f" "$out/js/$(basename "$f")"; done
copy "$hls/dist/hls.min.js" "$out/vendor/hls.min.js"
copy "$hls/LICENSE" "$out/vendor/hls.js.LICENSE"

# Files deleted from web/ must not linger in the output.
for f in "$out"/css/* "$out"/js/*; do
    [ -e "$f" ] || continue
    rel=${f#"$out"/}
    [ -f "$web/$rel" ] || rm -f "$f"
done
