#!/usr/bin/env bash
# The tooling virtualenv `.venv-tools`: kubernetes-validate, which checks the rendered Kubernetes
# manifests against the Kubernetes JSON schemas (tests/deploy, `make manifests`). Separate from .venv
# because its jsonschema is newer than Rasa's pin. Idempotent: a second run with the same pins takes
# a fraction of a second. Prints nothing but progress on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-tools
REQUIREMENTS=deploy/requirements-tools.txt

. scripts/python310.sh  # is_python310, find_python310 (as scripts/bootstrap.sh finds it)

HASH=$(sha256sum "$REQUIREMENTS" | cut -c1-16)
if [ -x "$VENV/bin/python" ] && is_python310 "$VENV/bin/python" && [ "$(cat "$VENV/.requirements-hash" 2>/dev/null)" = "$HASH" ]; then
  exit 0
fi
PY=$(find_python310) || { echo "ERROR: Python 3.10 not found (see scripts/bootstrap.sh for how to get it)" >&2; exit 1; }
echo "==> creating $VENV with $PY (kubernetes-validate)" >&2
rm -rf "$VENV"
"$PY" -m venv "$VENV"
echo '*' > "$VENV/.gitignore"  # the directory ignores itself, as .venv is ignored
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS" >&2
"$VENV/bin/python" -m pip check >&2
echo "$HASH" > "$VENV/.requirements-hash"
