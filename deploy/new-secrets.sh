#!/usr/bin/env bash
# Print fresh secrets as NAME=value lines, for compose's .env or the production overlay's secrets.env:
#   bash deploy/new-secrets.sh compose    >> .env
#   bash deploy/new-secrets.sh kubernetes  > deploy/k8s/overlays/production/secrets.env   (then edit the URLs)
# Each value is bot/config.py's new_secret(), the same kind `make run` generates into var/.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-}
case "$target" in compose|kubernetes) ;; *) echo "usage: $0 compose|kubernetes" >&2; exit 2 ;; esac
PY=${PYTHON:-.venv/bin/python}
# The secrets every process must share (bot/config.py generates them per machine when unset).
names=(RASA_API_TOKEN ACTION_SERVER_TOKEN LINK_SECRET PAYMENTS_FEED_SECRET)
[ "$target" = compose ] && names+=(POSTGRES_PASSWORD)
"$PY" - "${names[@]}" <<'PYEOF'
import sys
from bot.config import new_secret
for name in sys.argv[1:]:
    print(f"{name}={new_secret()}")
PYEOF
if [ "$target" = kubernetes ]; then
  cat <<'URLS'
# Where PostgreSQL and Redis are (passwords included, hence here and not in the ConfigMap):
DATABASE_URL=postgresql://debt:CHANGE-ME@postgres.example.internal:5432/debt
TRACKER_STORE_URL=postgresql://debt:CHANGE-ME@postgres.example.internal:5432/debt
REDIS_URL=redis://:CHANGE-ME@redis.example.internal:6379/0
# Telegram (docs/telegram.md): uncomment both to enable.
# TELEGRAM_TOKEN=
# TELEGRAM_WEBHOOK_SECRET=
URLS
fi
