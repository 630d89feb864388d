#!/usr/bin/env bash
# Start local PostgreSQL and Redis (Debian packages) for the integration tests, and print
# the environment the tests read. Idempotent. Usage: eval "$(bash scripts/integration_services.sh)"
set -euo pipefail
PG_VERSION=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | grep -q "^$PG_VERSION main .* online"; then
  pg_ctlcluster "$PG_VERSION" main start >&2
fi
as_postgres() { if [ "$(id -u)" -eq 0 ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi; }
for _ in $(seq 1 30); do as_postgres "pg_isready -q" && break; sleep 1; done
as_postgres "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='debt'\" | grep -q 1 || psql -qc \"CREATE ROLE debt LOGIN PASSWORD 'debt' CREATEDB\"" >&2
as_postgres "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='debt_test'\" | grep -q 1 || createdb -O debt debt_test" >&2
if ! redis-cli -p 6379 ping >/dev/null 2>&1; then
  redis-server --port 6379 --daemonize yes --save "" --appendonly no >&2
  for _ in $(seq 1 20); do redis-cli -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
fi
echo "export TEST_POSTGRES_URL=postgresql://debt:debt@127.0.0.1:5432/debt_test"
echo "export TEST_REDIS_URL=redis://127.0.0.1:6379/0"
