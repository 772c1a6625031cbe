#!/usr/bin/env bash
# install-jaeger.sh [BINARY]
# Builds Jaeger v2 (the all-in-one `jaeger` binary: an OpenTelemetry-Collector-based server that
# takes OTLP and serves the query API) into BINARY (default: .tools/bin/jaeger of this repository),
# once: an existing build of the right version is reused. Needs Go; the build is done by
# packages/server/templates/mongo/scripts/go-build-module.sh, the same helper that builds FerretDB.
#
# The Go module is github.com/jaegertracing/jaeger; its Go versions are v1.x (the module has no
# /v2 path), and each v1.N tag is also the v2 release of the same commit: v1.76.0 is Jaeger v2.13.0
# (see its CHANGELOG). ./cmd/jaeger is the v2 binary. Its version strings are normally stamped by
# the release Makefile through -ldflags; the same flags are given here so `jaeger version` tells.
# The UI assets are not in the module (they are built from a git submodule), so this build serves
# the query API on 16686 and a placeholder page instead of the web UI.
set -euo pipefail

MODULE_VERSION=v1.76.0
JAEGER_VERSION=v2.13.0
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
BIN=${1:-$ROOT/.tools/bin/jaeger}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac

if [ -x "$BIN" ] && "$BIN" version 2>/dev/null | grep "\"gitVersion\":\"$JAEGER_VERSION\"" >/dev/null; then
  exit 0
fi
echo "install-jaeger: building Jaeger $JAEGER_VERSION (module $MODULE_VERSION) into $BIN (first run only, several minutes)" >&2
pkg=github.com/jaegertracing/jaeger/internal/version
bash "$ROOT/packages/server/templates/mongo/scripts/go-build-module.sh" \
  github.com/jaegertracing/jaeger "$MODULE_VERSION" ./cmd/jaeger "$BIN" \
  -ldflags "-s -w -X $pkg.latestVersion=$JAEGER_VERSION -X $pkg.commitSHA=$MODULE_VERSION -X $pkg.date=2025-12-03T00:00:00Z"
"$BIN" version 2>/dev/null | tail -n 1 >&2
