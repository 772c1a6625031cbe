#!/usr/bin/env bash
# go-build-module.sh MODULE VERSION PACKAGE OUTPUT [go build flags…]
# Builds PACKAGE of Go module MODULE at exactly VERSION into OUTPUT, from that module's own go.mod.
#
# Why not `go install MODULE/PACKAGE@VERSION`: it asks the module proxy for the module's version list
# (to check for deprecation), and a proxy that refuses that list (403) fails the whole install. Here we
# download exactly VERSION and build from a writable copy of its source, so a caller can also add the
# files a project's release tooling would generate: set PREPARE to a shell command run in the copy first.
set -euo pipefail
[ $# -ge 4 ] || { echo "usage: go-build-module.sh MODULE VERSION PACKAGE OUTPUT [go build flags…]" >&2; exit 2; }
module=$1 version=$2 package=$3 output=$4
shift 4
command -v go >/dev/null || { echo "go-build-module: Go is required to build $module (https://go.dev/dl/)" >&2; exit 1; }

work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
go mod init carafe.local/go-build >/dev/null 2>&1
src=$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -n "$src" ] || { echo "go-build-module: could not download $module@$version" >&2; exit 1; }
cp -r "$src" "$work/src"
chmod -R u+w "$work/src"
cd "$work/src"
if [ -n "${PREPARE:-}" ]; then bash -c "$PREPARE"; fi
mkdir -p "$(dirname "$output")"
go build -trimpath "$@" -o "$output.tmp" "$package"
mv "$output.tmp" "$output"
