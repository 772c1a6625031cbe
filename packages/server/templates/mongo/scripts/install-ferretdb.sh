#!/usr/bin/env bash
# install-ferretdb.sh [BINARY]
# Builds FerretDB 1.24.2 (the MongoDB-compatible server used as the embedded database) into BINARY
# (default: .tools/bin/ferretdb of the project above this scripts/ folder), once: an existing build
# of the right version is reused. Needs Go; go-build-module.sh, next to this file, does the build.
#
# FerretDB reads its version from build/version/version.txt, which its release tooling generates;
# a binary built without it panics at start-up ("Invalid build/version/version.txt"), so the build
# writes that file as FerretDB's `task gen-version` would. (This is also why a plain
# `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` does not give a working binary.)
set -euo pipefail

VERSION=v1.24.2
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=${1:-$(dirname "$HERE")/.tools/bin/ferretdb}
# go-build-module.sh builds in a directory of its own: the output path must not be relative.
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac

if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep "version: $VERSION" >/dev/null; then
  exit 0
fi
echo "install-ferretdb: building FerretDB $VERSION into $BIN (first run only, ~2 minutes)" >&2
PREPARE="echo $VERSION > build/version/version.txt" \
  bash "$HERE/go-build-module.sh" github.com/FerretDB/FerretDB "$VERSION" ./cmd/ferretdb "$BIN"
"$BIN" --version | awk 'NR == 1' >&2
