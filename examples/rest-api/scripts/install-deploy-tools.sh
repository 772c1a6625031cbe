#!/usr/bin/env bash
# Installs the tools the deployment tests use, each only when missing (reruns are no-ops):
# - Helm, built into .tools/bin/helm, to lint and render the chart in deploy/helm (no cluster needed);
# - kubernetes-validate (PyPI; it ships the Kubernetes JSON schemas, so it works offline) in
#   .tools/k8s-venv, to check the rendered manifests strictly against the Kubernetes API schemas.
#
# Helm is built by go-build-module.sh (exactly this version, from its own go.mod; its one home is the
# scripts a `carafe new --mongo` project gets, which build FerretDB with it), with the version
# stamped in as Helm's release build does.
set -euo pipefail

VERSION=v3.16.4
KUBERNETES_VALIDATE=1.37.0
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
BIN_DIR="$ROOT/.tools/bin"
BIN="$BIN_DIR/helm"
VENV="$ROOT/.tools/k8s-venv"

if ! "$VENV/bin/kubernetes-validate" --version 2>/dev/null | grep "$KUBERNETES_VALIDATE" >/dev/null; then
  echo "install-deploy-tools: installing kubernetes-validate $KUBERNETES_VALIDATE into $VENV" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE"
fi

if [ -x "$BIN" ] && "$BIN" version --short 2>/dev/null | grep "^$VERSION" >/dev/null; then
  exit 0
fi
echo "install-deploy-tools: building Helm $VERSION into $BIN (first run only, a few minutes)" >&2
CGO_ENABLED=0 bash "$ROOT/packages/server/templates/mongo/scripts/go-build-module.sh" helm.sh/helm/v3 "$VERSION" ./cmd/helm "$BIN" \
  -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
"$BIN" version --short >&2
