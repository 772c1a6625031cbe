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
  # Not fatal: without root or apt the tests that need a missing tool fail and name it.
  if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
    echo "provision: could not install ${missing[*]} (need root or sudo and apt); install them and run again" >&2
  fi
fi

# Each step is idempotent and reuses what is built. A step that fails (no Go, no registry) does not
# stop the others: the tests that need its tool fail and say what is missing.
step() {
  "$@" || echo "provision: '$*' failed; the tests that need it will fail and say so" >&2
}
# FerretDB, the embedded default database (the same entry point npm start and the tests use).
step node "$ROOT/scripts/ferretdb.mjs" install >/dev/null
# Jaeger v2 (Go module proxy) for the tracing end-to-end test.
step bash "$ROOT/scripts/install-jaeger.sh" >/dev/null
# Helm and kubernetes-validate, for the REST API example's deployment tests.
step bash "$ROOT/examples/rest-api/scripts/install-deploy-tools.sh"
# Bun, Deno and workerd (platform packages on the npm registry) for test/runtimes/.
step bash "$ROOT/scripts/install-runtimes.sh" >/dev/null
