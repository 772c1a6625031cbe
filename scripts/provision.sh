#!/usr/bin/env bash
# Installs the system tools the tests and benchmarks use, only where missing:
# nginx and wrk (Debian packages), taskset (util-linux), and FerretDB (built from Go).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v wrk >/dev/null || missing+=(wrk)
command -v taskset >/dev/null || missing+=(util-linux)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO=sudo; else SUDO=; fi
  echo "provision: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# FerretDB, the embedded default database (the same entry point npm start and the tests use).
node "$ROOT/scripts/ferretdb.mjs" install >/dev/null

# Helm and kubernetes-validate, for the REST API example's deployment tests.
bash "$ROOT/examples/rest-api/scripts/install-deploy-tools.sh"
