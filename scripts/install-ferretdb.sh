#!/usr/bin/env bash
# Builds FerretDB 1.24.2 (the MongoDB-compatible server used as the embedded default and by
# the tests) into .tools/bin/ferretdb, once. Reuses an existing build of the right version.
#
# Why not a plain `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`:
# - it asks the module proxy for the module's version list to check for deprecation, and a
#   proxy that refuses that list (403) fails the install;
# - FerretDB reads its version from build/version/version.txt, which its release tooling
#   generates; a binary built without it panics at start-up ("Invalid build/version/version.txt").
# So we download exactly v1.24.2, write that file as FerretDB's `task gen-version` would, and build.
set -euo pipefail

VERSION=v1.24.2
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN_DIR="$ROOT/.tools/bin"
BIN="$BIN_DIR/ferretdb"

if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q "version: $VERSION"; then
  exit 0
fi
command -v go >/dev/null || { echo "install-ferretdb: Go is required to build FerretDB (https://go.dev/dl/)" >&2; exit 1; }

echo "install-ferretdb: building FerretDB $VERSION into $BIN (first run only, ~2 minutes)" >&2
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
(
  cd "$work"
  go mod init carafe.local/ferretdb-build >/dev/null 2>&1
  src=$(go mod download -json "github.com/FerretDB/FerretDB@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$src" ] || { echo "install-ferretdb: could not download github.com/FerretDB/FerretDB@$VERSION" >&2; exit 1; }
  cp -r "$src" "$work/src"
  chmod -R u+w "$work/src"
  echo "$VERSION" > "$work/src/build/version/version.txt"
  cd "$work/src"
  mkdir -p "$BIN_DIR"
  go build -trimpath -o "$BIN.tmp" ./cmd/ferretdb
  mv "$BIN.tmp" "$BIN"
)
"$BIN" --version | head -1 >&2
