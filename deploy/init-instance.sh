#!/usr/bin/env bash
# Prepare a production Dagster instance (deploy/dagster.yaml) once, before its first run:
# create or upgrade its PostgreSQL schema and set the concurrency pools' limits.
#
#   DAGSTER_HOME=/srv/dagster DAGSTER_PG_URL=postgresql+psycopg2://... deploy/init-instance.sh
#
# Setting the pools explicitly matters on PostgreSQL: left to `default_limit`, the first runs
# that start together race to create the pool's row and one of them fails (Dagster issue
# #33552). WEB_POOL_LIMIT overrides the default below.
set -euo pipefail
: "${DAGSTER_HOME:?set DAGSTER_HOME to the folder holding dagster.yaml}"
: "${DAGSTER_PG_URL:?set DAGSTER_PG_URL to the instance database}"
bin="$(dirname "$(command -v dagster)")"
"$bin/dagster" instance migrate
"$bin/dagster" instance concurrency set web "${WEB_POOL_LIMIT:-4}"   # shard steps at once
