#!/usr/bin/env bash
# Builds the release binaries into dist/: onedesk for linux/amd64,
# linux/arm64, windows/amd64 and darwin/arm64, pure Go (CGO_ENABLED=0),
# stripped, with the version stamped in (onedesk version prints it).
#
#   release/build.sh            # version from git describe
#   VERSION=v1.2.0 release/build.sh
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
TARGETS=${TARGETS:-"linux/amd64 linux/arm64 windows/amd64 darwin/arm64"}
mkdir -p dist

for target in $TARGETS; do
  os=${target%/*}
  arch=${target#*/}
  out="dist/onedesk-$VERSION-$os-$arch"
  [ "$os" = windows ] && out="$out.exe"
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath \
    -ldflags "-s -w -X onedesk/cli.Version=$VERSION" -o "$out" .
  wc -c < "$out" | awk -v f="$out" '{ printf "%-48s %6.1f MB\n", f, $1 / 1048576 }'
done
(cd dist && { sha256sum onedesk-"$VERSION"-* 2>/dev/null || shasum -a 256 onedesk-"$VERSION"-*; } > "onedesk-$VERSION.sha256")
echo "checksums: dist/onedesk-$VERSION.sha256"
