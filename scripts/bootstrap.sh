#!/usr/bin/env bash
# Make a checkout ready to run or test: Python 3.10 virtualenv, pinned requirements,
# a trained model when data/config/domain changed, the database migrated with demo data.
# Every step is skipped when its result is already up to date, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
export TF_CPP_MIN_LOG_LEVEL=3 PYTHONWARNINGS=ignore SQLALCHEMY_SILENCE_UBER_WARNING=1

# Concurrent set-ups (two terminals, parallel test runs) wait for each other instead of training twice.
exec 9>"$ROOT/.bootstrap.lock"
flock 9

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

. "$ROOT/scripts/python310.sh"  # is_python310, find_python310

if [ ! -x "$VENV/bin/python" ] || ! is_python310 "$VENV/bin/python"; then
  PY=$(ALLOW_UV=1 find_python310) || {
    echo "ERROR: this project needs Python 3.10 (Rasa 3.6 refuses 3.11+, python-telegram-bot 22 needs 3.10+)." >&2
    echo "Install it with pyenv ('pyenv install 3.10.13'), your OS packages, or 'pip install uv && uv python install 3.10'," >&2
    echo "or point PYTHON=/path/to/python3.10 at one, then run this again." >&2
    exit 1
  }
  [ -d "$VENV" ] && { say "replacing $VENV (not Python 3.10)"; rm -rf "$VENV"; }
  say "creating .venv with $PY"
  "$PY" -m venv "$VENV"
fi

REQ_HASH=$(cat requirements.lock | sha256sum | cut -c1-16)
if [ "$(cat "$VENV/.requirements-hash" 2>/dev/null)" != "$REQ_HASH" ]; then
  say "installing pinned requirements (one resolution, then pip check)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "pip==24.2"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.lock
  "$VENV/bin/python" -m pip check
  echo "$REQ_HASH" > "$VENV/.requirements-hash"
fi

# The model depends on the training data, the pipeline and the code of its custom components.
MODEL_HASH=$(find config.yml domain.yml data nlu_components bot/language -type f \( -name '*.yml' -o -name '*.py' \) \
  | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)
if [ ! -f models/assistant.tar.gz ] || [ "$(cat models/.fingerprint 2>/dev/null)" != "$MODEL_HASH" ]; then
  say "training the model (data, config or domain changed)"
  TRAIN_STARTED=$(date +%s)
  "$VENV/bin/rasa" train --fixed-model-name assistant --out models --quiet
  echo "$MODEL_HASH" > models/.fingerprint
  say "model trained in $(( $(date +%s) - TRAIN_STARTED )) s"
fi

say "database: migrate and load demo data"
"$VENV/bin/python" -m bot.cli setup
"$VENV/bin/python" -m bot.cli render-config >/dev/null
