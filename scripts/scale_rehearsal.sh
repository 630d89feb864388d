#!/usr/bin/env bash
# The scale-out failure rehearsal (docs/scale-out.md): nginx in front of two Rasa processes and two
# action servers, the web app, PostgreSQL and Redis, all on this machine as the current user; simulated
# borrowers over REST, the widget's socket.io and Telegram; one Rasa process and one action server
# SIGKILLed and restarted mid-load, then PostgreSQL restarted. Prints the figures and a PASS/FAIL per
# check; exits non-zero on any FAIL.
#
# Usage: bash scripts/scale_rehearsal.sh [--borrowers 30] [--kill-at 15] [--tail 15] [--json out.json] ...
#        (python -m bench.rehearsal --help lists every option)
# Needs: the trained model (make setup), nginx (Debian's nginx-light), PostgreSQL and Redis (started here
# by scripts/integration_services.sh), and the right to run pg_ctlcluster (root or the postgres user).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || {
  echo "nginx is not installed (Debian: apt-get install nginx-light; see scripts/system_packages.sh)" >&2; exit 2; }
[ -f models/assistant.tar.gz ] || bash scripts/bootstrap.sh
eval "$(bash scripts/integration_services.sh)"
export TF_CPP_MIN_LOG_LEVEL=3 SQLALCHEMY_SILENCE_UBER_WARNING=1
exec .venv/bin/python -m bench.rehearsal "$@"
