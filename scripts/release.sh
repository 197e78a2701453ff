#!/usr/bin/env bash
# Builds the release binaries of the checkout it is run in:
#   scripts/release.sh OUT_DIR
# OUT_DIR/authserver-<version>-linux-amd64 and -linux-arm64 (static, CGO off)
# and OUT_DIR/SHA256SUMS. The version is the VERSION file, the commit
# `git rev-parse HEAD` (or $AUTHSERVER_COMMIT when set, for a tree that is not
# a git checkout). Builds are reproducible: the same source gives the same
# bytes wherever and whenever it is built (-trimpath, no build id, no VCS
# stamp, fixed flags), which deploy/release_test.go checks.
set -euo pipefail
out=${1:?usage: scripts/release.sh OUT_DIR}
cd "$(dirname "$0")/.."
version=$(tr -d ' \n' < VERSION)
commit=${AUTHSERVER_COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
names=()
for arch in amd64 arm64; do
  name=authserver-$version-linux-$arch
  CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath -buildvcs=false \
    -ldflags "-s -w -buildid= -X main.version=$version -X main.commit=$commit" \
    -o "$out/$name" ./cmd/authserver
  names+=("$name")
done
(cd "$out" && sha256sum "${names[@]}" > SHA256SUMS)
cat "$out/SHA256SUMS"
