#!/usr/bin/env bash
# Debian's arm64 Node (Node 18, V8 for arm64) to run under qemu-user for
# test/arm64.test.ts: qemu-user-static, then the arm64 .debs of nodejs, libnode108 and
# their libraries (and the arch-independent node-* modules it loads), unpacked into
# .cache/arm64-node (or $EDGEQ_ARM64_ROOT). Needs root (apt-get, dpkg --add-architecture)
# and Debian 12's package names. .ci/run runs it; a developer runs it once.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="${EDGEQ_ARM64_ROOT:-$PWD/.cache/arm64-node}"
export DEBIAN_FRONTEND=noninteractive
command -v qemu-aarch64-static >/dev/null || { apt-get update; apt-get install -y --no-install-recommends qemu-user-static; }
if [ -x "$root/usr/bin/node" ]; then echo "arm64 Node already in $root"; exit 0; fi
dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
apt-get update
debs="$(mktemp -d)"
trap 'rm -rf "$debs"' EXIT
chmod 777 "$debs" # apt's download user writes here
(cd "$debs" && apt-get download nodejs:arm64 libnode108:arm64 libbrotli1:arm64 libc-ares2:arm64 libc6:arm64 libgcc-s1:arm64 \
  libicu72:arm64 libnghttp2-14:arm64 libssl3:arm64 libstdc++6:arm64 libuv1:arm64 zlib1g:arm64 \
  node-acorn node-cjs-module-lexer node-undici)
mkdir -p "$root"
for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$root"; done
QEMU_LD_PREFIX="$root" qemu-aarch64-static "$root/usr/bin/node" -e 'console.log(`arm64 Node ${process.version} (${process.arch}) ready`)'
