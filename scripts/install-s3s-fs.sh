#!/usr/bin/env bash
# Install the s3s-fs S3 server (crates.io, feature `binary`) into $ROOT/.tools/bin for the S3 tests.
#
# Idempotent: does nothing when .tools/bin/s3s-fs already reports the pinned version.
# Pin: the newest s3s-fs whose rust-version this toolchain meets. 0.15.0 .. 0.17.0 need
# rustc >= 1.96; 0.14.1 needs 1.92. Raise the pin together with the toolchain.
set -euo pipefail

S3S_FS_VERSION="${S3S_FS_VERSION:-0.14.1}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Built once per machine (a clean clone reuses it), linked into the checkout's .tools/bin.
CACHE="${PYRUSTPIPE_TOOLS_CACHE:-$HOME/.cache/pyrustpipe/tools/s3s-fs-$S3S_FS_VERSION}"
BIN="$CACHE/bin/s3s-fs"
LINK="$ROOT/.tools/bin/s3s-fs"

link() {
    mkdir -p "$ROOT/.tools/bin"
    ln -sf "$BIN" "$LINK"
}

installed_version() {
    # `s3s-fs --version` prints "s3s-fs <version>"
    "$BIN" --version 2>/dev/null | awk '{print $NF}'
}

if [[ -x "$BIN" && "$(installed_version)" == "$S3S_FS_VERSION" ]]; then
    link
    echo "s3s-fs $S3S_FS_VERSION already installed: $BIN"
    exit 0
fi

command -v cargo >/dev/null || { echo "cargo is required (rustup)" >&2; exit 1; }
echo "installing s3s-fs $S3S_FS_VERSION into $CACHE ..." >&2
cargo install s3s-fs --features binary --locked --version "=$S3S_FS_VERSION" \
    --root "$CACHE" --force --quiet

got="$(installed_version)"
if [[ "$got" != "$S3S_FS_VERSION" ]]; then
    echo "installed s3s-fs reports version '$got', expected '$S3S_FS_VERSION'" >&2
    exit 1
fi
link
echo "s3s-fs $S3S_FS_VERSION installed: $BIN"
