#!/usr/bin/env bash
# Install the S3 server of the tests into $ROOT/.tools/bin/s3s-fs: the s3s-fs library (crates.io)
# served by devtools/s3s_fs_nodelay, which turns Nagle's algorithm off (its main.rs says why).
#
# Idempotent: built once per machine for each version of that crate's sources (a clean clone
# reuses it), then linked into the checkout's .tools/bin.
# Pin (its Cargo.toml): s3s / s3s-fs 0.14.1, the newest whose rust-version this toolchain meets
# (0.15.0 .. 0.17.0 need rustc >= 1.96). Raise the pin together with the toolchain.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SOURCE="$ROOT/devtools/s3s_fs_nodelay"
STAMP="$(cat "$SOURCE/Cargo.toml" "$SOURCE/Cargo.lock" "$SOURCE/src/main.rs" | sha256sum | cut -c1-12)"
CACHE="${PYRUSTPIPE_TOOLS_CACHE:-$HOME/.cache/pyrustpipe/tools/s3s-fs-nodelay-$STAMP}"
BIN="$CACHE/bin/s3s-fs"
LINK="$ROOT/.tools/bin/s3s-fs"

link() {
    mkdir -p "$ROOT/.tools/bin"
    ln -sf "$BIN" "$LINK"
}

# One build at a time: `make test` asks for the server from two makes at once (the one beside
# the build, and the one that runs the tests); the second waits here, then finds it installed.
mkdir -p "$(dirname "$CACHE")"
exec 9>"$CACHE.lock"
flock 9

if [[ -x "$BIN" ]] && "$BIN" --version >/dev/null 2>&1; then
    link
    echo "s3s-fs (nodelay, $STAMP) already installed: $BIN"
    exit 0
fi

command -v cargo >/dev/null || { echo "cargo is required (rustup)" >&2; exit 1; }
echo "building s3s-fs (nodelay, $STAMP) into $CACHE ..." >&2
cargo install --path "$SOURCE" --locked --root "$CACHE" --force --quiet
"$BIN" --version >/dev/null
link
echo "s3s-fs (nodelay, $STAMP) installed: $BIN"
