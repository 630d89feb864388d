#!/usr/bin/env bash
# Set everything up if needed, then run the assistant's processes in the foreground.
# Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 077  # databases, logs and secrets every process creates are readable by this user only
bash scripts/bootstrap.sh
eval "$(.venv/bin/python -m bot.cli export-env)"
.venv/bin/python -m bot.cli show-settings
exec .venv/bin/honcho start -f Procfile
