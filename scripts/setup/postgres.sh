#!/usr/bin/env bash
# Installs Debian's PostgreSQL 15 if missing, starts its cluster, and makes the test role and
# database the run-store tests use (MLW_TEST_POSTGRES_URL, default below).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] || apt_install postgresql
version=$(ls /etc/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" && $4 == "online"' | grep -q .; then
  log "starting PostgreSQL $version"
  as_root pg_ctlcluster "$version" main start
fi
psql_admin() { as_root su postgres -c "psql -v ON_ERROR_STOP=1 -qtA -c \"$1\""; }
if [ "$(psql_admin "SELECT 1 FROM pg_roles WHERE rolname = 'mlw_test'")" != 1 ]; then
  psql_admin "CREATE ROLE mlw_test LOGIN PASSWORD 'mlw_test' CREATEDB"
fi
if [ "$(psql_admin "SELECT 1 FROM pg_database WHERE datname = 'mlw_test'")" != 1 ]; then
  psql_admin "CREATE DATABASE mlw_test OWNER mlw_test"
fi
log "PostgreSQL $version: up (postgres://mlw_test:mlw_test@127.0.0.1:5432/mlw_test)"
