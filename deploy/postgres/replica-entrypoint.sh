#!/bin/bash
# The standby: on first start, a base backup of the primary with its recovery settings (-R); then PostgreSQL.
set -euo pipefail
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  chmod 700 "$PGDATA"
  export PGPASSWORD="$REPLICATION_PASSWORD"
  until pg_basebackup --host="$PRIMARY_HOST" --username=replicator --pgdata="$PGDATA" \
        --wal-method=stream --write-recovery-conf --checkpoint=fast; do
    echo "waiting for the primary at $PRIMARY_HOST ..."
    rm -rf "${PGDATA:?}"/*
    sleep 2
  done
fi
exec postgres -c hot_standby=on
