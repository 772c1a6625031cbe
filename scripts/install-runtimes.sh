#!/usr/bin/env bash
# Usage: scripts/install-runtimes.sh
# Puts Bun, Deno and workerd (the Cloudflare Workers runtime) in .tools/runtimes/bin/ and prints that
# directory. test/runtimes/ serves the same Carafe app on each of them over real HTTP.
#
# The binaries come from the npm registry, where each runtime's package (bun, deno, workerd) ships
# them in per-platform optional dependencies: those platform packages are installed directly
# (no install scripts run), with `npm install --prefix .tools/runtimes`. Reused when the versions
# below are already there and run.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEST="$ROOT/.tools/runtimes"
BUN_VERSION=1.4.5
DENO_VERSION=2.9.6
WORKERD_VERSION=1.20261117.1

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64)
    # Bun's default x64 build needs AVX2; the baseline build runs on older CPUs.
    if grep -qw avx2 /proc/cpuinfo 2>/dev/null; then BUN_PACKAGE=@oven/bun-linux-x64; else BUN_PACKAGE=@oven/bun-linux-x64-baseline; fi
    DENO_PACKAGE=@deno/linux-x64-glibc
    WORKERD_PACKAGE=@cloudflare/workerd-linux-64
    ;;
  Linux-aarch64)
    BUN_PACKAGE=@oven/bun-linux-aarch64
    DENO_PACKAGE=@deno/linux-arm64-glibc
    WORKERD_PACKAGE=@cloudflare/workerd-linux-arm64
    ;;
  *)
    echo "install-runtimes: no Bun/Deno/workerd packages for $(uname -s) $(uname -m) here" >&2
    exit 1
    ;;
esac
if ldd --version 2>&1 | grep -qi musl; then
  echo "install-runtimes: Deno and workerd publish glibc builds only; this system uses musl" >&2
  exit 1
fi

BUN_BIN="$DEST/node_modules/$BUN_PACKAGE/bin/bun"
DENO_BIN="$DEST/node_modules/$DENO_PACKAGE/deno"
WORKERD_BIN="$DEST/node_modules/$WORKERD_PACKAGE/bin/workerd"
# workerd 1.YYYYMMDD.N reports its version as YYYY-MM-DD.
WORKERD_DATE=$(echo "$WORKERD_VERSION" | sed -E 's/^1\.([0-9]{4})([0-9]{2})([0-9]{2})\..*/\1-\2-\3/')

installed() {
  [ -x "$BUN_BIN" ] && [ "$("$BUN_BIN" --version 2>/dev/null)" = "$BUN_VERSION" ] &&
    [ -x "$DENO_BIN" ] && "$DENO_BIN" --version 2>/dev/null | head -n 1 | grep -q "^deno $DENO_VERSION " &&
    [ -x "$WORKERD_BIN" ] && [ "$("$WORKERD_BIN" --version 2>/dev/null)" = "workerd $WORKERD_DATE" ]
}

if ! installed; then
  echo "install-runtimes: installing bun $BUN_VERSION, deno $DENO_VERSION, workerd $WORKERD_VERSION into .tools/runtimes" >&2
  mkdir -p "$DEST"
  # Its own package.json, so that npm never walks up to the repository's workspaces.
  [ -f "$DEST/package.json" ] || echo '{ "name": "carafe-runtimes", "private": true }' >"$DEST/package.json"
  npm install --prefix "$DEST" --no-audit --no-fund --ignore-scripts --save-exact --prefer-offline --loglevel=error \
    "$BUN_PACKAGE@$BUN_VERSION" "$DENO_PACKAGE@$DENO_VERSION" "$WORKERD_PACKAGE@$WORKERD_VERSION" >&2
  chmod +x "$BUN_BIN" "$DENO_BIN" "$WORKERD_BIN"
  if ! installed; then
    echo "install-runtimes: installed, but a binary does not run or reports another version:" >&2
    "$BUN_BIN" --version >&2 || true
    "$DENO_BIN" --version >&2 || true
    "$WORKERD_BIN" --version >&2 || true
    exit 1
  fi
fi

mkdir -p "$DEST/bin"
ln -sf "$BUN_BIN" "$DEST/bin/bun"
ln -sf "$DENO_BIN" "$DEST/bin/deno"
ln -sf "$WORKERD_BIN" "$DEST/bin/workerd"
echo "$DEST/bin"
