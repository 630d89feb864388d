#!/usr/bin/env bash
# Render the Kustomize base and the production overlay and check every object against the Kubernetes
# JSON schemas (kubernetes-validate --strict, in .venv-tools), offline: no cluster is needed.
#   bash deploy/render.sh [OUT_DIR]      (default var/manifests; `make manifests`)
# KUBECTL picks the kubectl whose Kustomize renders (default: kubectl on PATH). Without
# deploy/k8s/overlays/production/secrets.env the overlay is rendered with throwaway secrets.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 077  # the production render holds the Secret's values
OUT=${1:-var/manifests}
KUBECTL=${KUBECTL:-kubectl}
# The oldest and the newest Kubernetes whose schemas kubernetes-validate ships (autoscaling/v2 needs 1.23+).
SCHEMA_VERSIONS=${SCHEMA_VERSIONS:-"1.25.0 1.37.0"}

command -v "$KUBECTL" >/dev/null 2>&1 || { echo "ERROR: $KUBECTL not found (scripts/system_packages.sh installs it)" >&2; exit 1; }
bash scripts/tools_venv.sh
mkdir -p "$OUT"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r deploy/k8s "$work/k8s"
if [ ! -f "$work/k8s/overlays/production/secrets.env" ]; then
  echo "==> no deploy/k8s/overlays/production/secrets.env: rendering production with throwaway secrets" >&2
  bash deploy/new-secrets.sh kubernetes > "$work/k8s/overlays/production/secrets.env"
fi
for target in base overlays/production; do
  name=$(basename "$target")
  # Newer Kustomize warns on stderr about fields kept for kubectl 1.20's (bases, patchesStrategicMerge).
  "$KUBECTL" kustomize "$work/k8s/$target" > "$OUT/$name.yaml" 2> "$work/$name.err" \
    || { cat "$work/$name.err" >&2; echo "ERROR: $KUBECTL kustomize $target failed" >&2; exit 1; }
  for version in $SCHEMA_VERSIONS; do
    .venv-tools/bin/kubernetes-validate --strict --quiet -k "$version" "$OUT/$name.yaml" \
      || { echo "ERROR: $target does not match the Kubernetes $version schemas" >&2; exit 1; }
  done
  echo "==> $target: $(grep -c '^kind:' "$OUT/$name.yaml") objects, valid for Kubernetes ${SCHEMA_VERSIONS// /, } -> $OUT/$name.yaml" >&2
done
