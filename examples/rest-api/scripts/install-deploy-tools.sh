#!/usr/bin/env bash
# Installs the tools the deployment tests use, each only when missing (reruns are no-ops):
# - Helm, built into .tools/bin/helm, to lint and render the chart in deploy/helm (no cluster needed);
# - kubernetes-validate (PyPI; it ships the Kubernetes JSON schemas, so it works offline) in
#   .tools/k8s-venv, to check the rendered manifests strictly against the Kubernetes API schemas.
#
# Like scripts/install-ferretdb.sh it avoids a plain `go install helm.sh/helm/v3/cmd/helm@…`,
# which asks the module proxy for the version list (a proxy may refuse it): it downloads exactly
# this version and builds it from that module's own go.mod, with the version stamped in as
# Helm's release build does.
set -euo pipefail

VERSION=v3.16.4
KUBERNETES_VALIDATE=1.37.0
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
BIN_DIR="$ROOT/.tools/bin"
BIN="$BIN_DIR/helm"
VENV="$ROOT/.tools/k8s-venv"

if ! "$VENV/bin/kubernetes-validate" --version 2>/dev/null | grep -q "$KUBERNETES_VALIDATE"; then
  echo "install-deploy-tools: installing kubernetes-validate $KUBERNETES_VALIDATE into $VENV" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE"
fi

if [ -x "$BIN" ] && "$BIN" version --short 2>/dev/null | grep -q "^$VERSION"; then
  exit 0
fi
command -v go >/dev/null || { echo "install-deploy-tools: Go is required to build Helm (https://go.dev/dl/)" >&2; exit 1; }

echo "install-deploy-tools: building Helm $VERSION into $BIN (first run only, a few minutes)" >&2
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
(
  cd "$work"
  go mod init carafe.local/helm-build >/dev/null 2>&1
  src=$(go mod download -json "helm.sh/helm/v3@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$src" ] || { echo "install-deploy-tools: could not download helm.sh/helm/v3@$VERSION" >&2; exit 1; }
  cp -r "$src" "$work/src"
  chmod -R u+w "$work/src"
  cd "$work/src"
  mkdir -p "$BIN_DIR"
  CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
    -o "$BIN.tmp" ./cmd/helm
  mv "$BIN.tmp" "$BIN"
)
"$BIN" version --short >&2
