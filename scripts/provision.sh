#!/usr/bin/env bash
# Installs the system tools the tests and benchmarks use, only where missing:
# nginx, wrk and chromium (Debian packages), taskset (util-linux), and FerretDB (built from Go).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v wrk >/dev/null || missing+=(wrk)
command -v taskset >/dev/null || missing+=(util-linux)
# Headless Chromium, for the docs UI test (test/e2e-docs-ui-chromium.test.ts).
command -v chromium >/dev/null || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO=sudo; else SUDO=; fi
  echo "provision: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# FerretDB, the embedded default database (the same entry point npm start and the tests use).
node "$ROOT/scripts/ferretdb.mjs" install >/dev/null
bash "$ROOT/scripts/install-jaeger.sh" >/dev/null # Jaeger v2 (Go module proxy) for the tracing end-to-end test

# Helm and kubernetes-validate, for the REST API example's deployment tests.
bash "$ROOT/examples/rest-api/scripts/install-deploy-tools.sh"
bash "$ROOT/scripts/install-runtimes.sh" >/dev/null # Bun, Deno, workerd (npm registry) for test/runtimes/
