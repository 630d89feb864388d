#!/usr/bin/env bash
# Container entry point: runs one process of the Procfile, set up the way `make run` sets it up.
#
#   entrypoint.sh rasa|actions|web|outreach   the Procfile's command for that name, unchanged
#   entrypoint.sh migrate                     the one-shot set-up the others wait for
#   entrypoint.sh cli ARGS...                 python -m bot.cli ARGS (agents, import, purge, ...)
#
# The image's virtualenv sits at /app/.venv, where the Procfile expects it, so the Procfile stays
# the one definition of each process's command. Rasa's var/endpoints.yml and var/credentials.yml
# are written by the same generator as `make run` (bot/runtime_config.py via `bot.cli render-config`).
set -euo pipefail
cd "$(dirname "$0")/.."
umask 077  # as scripts/run.sh: whatever the processes write is readable by this user only
PY=.venv/bin/python
VAR_DIR=${APP_VAR_DIR:-var}

die() { echo "entrypoint: $*" >&2; exit 2; }

# The Procfile line of process $1, without its name.
procfile_command() {
  sed -n "s/^$1:[[:space:]]*//p" Procfile
}

# A secret that bot/config.py had to generate into var/ is known to this container only: Rasa,
# the action server and the web app would each hold a different token. Stop, naming the variable.
refuse_generated_secrets() {
  local file names=()
  shopt -s nullglob
  for file in "$VAR_DIR"/.*_token "$VAR_DIR"/.*_secret; do
    names+=("$(basename "$file" | cut -c2- | tr '[:lower:]' '[:upper:]')")
  done
  [ ${#names[@]} -eq 0 ] || die "set ${names[*]} in the environment (from a Secret): every container must share them"
}

# Migrations, then (with APP_ENV=development only) the demo data and demo console accounts as
# `make run` creates them; then the tracker store's table, so that Rasa replicas starting together
# do not race to create it.
migrate() {
  if [ "${APP_ENV:-development}" = "development" ]; then
    "$PY" -m bot.cli setup
  else
    "$PY" -c 'from bot.config import load_settings; from bot.storage.schema import migrate; migrate(load_settings().database_url)'
    echo "migrated the application database"
  fi
  PYTHONWARNINGS=ignore "$PY" - "$VAR_DIR/endpoints.yml" <<'PYEOF'
import sys
from rasa.core.tracker_store import TrackerStore
from rasa.utils.endpoints import read_endpoint_config
TrackerStore.create(read_endpoint_config(sys.argv[1], "tracker_store"))
print("tracker store ready")
PYEOF
}

[ $# -ge 1 ] || die "usage: entrypoint.sh rasa|actions|web|outreach|migrate|cli ARGS..."
process=$1; shift
if [ "$process" = cli ]; then
  exec "$PY" -m bot.cli "$@"
fi
if [ "$process" != migrate ]; then
  case "$process" in *[!a-z0-9_-]*|"") die "no process '$process' in the Procfile" ;; esac  # a name, not a pattern
  command=$(procfile_command "$process")
  [ -n "$command" ] || die "no process '$process' in the Procfile (expected rasa, actions, web, outreach, migrate or cli)"
fi
# Ports and TensorFlow threading exactly as `make run` exports them (scripts/run.sh); a bad setting
# stops here, naming the variable (an assignment, unlike `eval "$(…)"`, fails under `set -e`).
exports=$("$PY" -m bot.cli export-env)
eval "$exports"
"$PY" -m bot.cli render-config >/dev/null
refuse_generated_secrets
if [ "$process" = migrate ]; then
  migrate
else
  eval "exec $command"
fi
