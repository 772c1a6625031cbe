#!/usr/bin/env bash
# Builds FerretDB 1.24.2 (the MongoDB-compatible server used as the embedded default and by the
# tests) into .tools/bin/ferretdb, once. Reuses an existing build of the right version.
#
# FerretDB reads its version from build/version/version.txt, which its release tooling generates;
# a binary built without it panics at start-up ("Invalid build/version/version.txt"), so the build
# writes that file as FerretDB's `task gen-version` would. (This is also why a plain
# `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` does not give a working binary.)
set -euo pipefail

VERSION=v1.24.2
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN="$ROOT/.tools/bin/ferretdb"

if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep "version: $VERSION" >/dev/null; then
  exit 0
fi
echo "install-ferretdb: building FerretDB $VERSION into $BIN (first run only, ~2 minutes)" >&2
PREPARE="echo $VERSION > build/version/version.txt" \
  bash "$ROOT/scripts/go-build-module.sh" github.com/FerretDB/FerretDB "$VERSION" ./cmd/ferretdb "$BIN"
"$BIN" --version | awk 'NR == 1' >&2
