#!/bin/bash
# Issue 21's measurements (docs/PERFORMANCE.md, "Several replicas"):
#  1. what the shared throttle (throttle.store: database) adds to a login
#     the credential cache does not answer (cache off: every login runs
#     bcrypt), and to one it answers (cache on), against throttle.store:
#     memory, on PostgreSQL;
#  2. audit.mode sync (group commit) against async, tokens per second with
#     every token signed (reuse_window 0s), on SQLite and on PostgreSQL.
# Each comparison alternates its two sides (A, B, A, B) so that foreign load
# hits both. Needs bin/authserver, bin/loadgen and bin/seed and a key pair in
# $B (bench/README.md), and a throw-away PostgreSQL with an empty database
# at $PGDSN (default: bench/README.md case 3's server, database "ha").
set -euo pipefail
B=${B:-/tmp/authbench}
PGDSN=${PGDSN:-postgres://postgres@127.0.0.1:55432/ha?sslmode=disable}
D=${D:-10s}
cd "$B"

conf() { # name storage-lines throttle-store cache-ttl audit-mode
  cat >"$B/$1.yaml" <<EOF
server: {addr: 127.0.0.1:5001}
token: {key: $B/token.key, certificate: $B/token.crt, reuse_window: 0s}
$2
throttle: {store: $3}
cache: {credentials_ttl: $4, credentials_max: 100000}
audit: {mode: $5}
log: {level: warn}
EOF
}
pg="storage: {driver: postgres, dsn: '$PGDSN'}"
lite="storage: {driver: sqlite, dsn: $B/ha.db}"
conf pg-mem-miss   "$pg"   memory   0s sync
conf pg-db-miss    "$pg"   database 0s sync
conf pg-mem-hit    "$pg"   memory   5m sync
conf pg-db-hit     "$pg"   database 5m sync
conf pg-sync       "$pg"   database 5m sync
conf pg-async      "$pg"   database 5m async
conf lite-sync     "$lite" memory   5m sync
conf lite-async    "$lite" memory   5m async
for c in pg-sync lite-sync; do
  bin/seed --config "$B/$c.yaml" --users 10 --projects 10 --members 20 --public-every 10 --password Bench-pw-1 --append >/dev/null
done

run_server() { bin/authserver serve --config "$B/$1.yaml" 2>"$B/serve-$1.err" & SRV=$!; sleep 1.5; }
stop_server() { kill -INT $SRV; wait $SRV || true; }
lg() { # concurrency
  bin/loadgen --scenario basic --user user000001 --password Bench-pw-1 --project proj00000 \
    --concurrency "$1" --duration "$D" --warmup 2s --json
}
summ() { jq -c '{ok_per_second, p50: .latency_ms.p50, p90: .latency_ms.p90, status}'; }
measure() { # config concurrency
  run_server "$1"
  echo "$1 c=$2: $(lg "$2" | summ)"
  stop_server
}

uptime
for round in ${ROUNDS:-1 2 3}; do
  for c in 1 4; do
    for cfg in pg-mem-miss pg-db-miss; do measure $cfg $c; done
  done
  for cfg in pg-mem-hit pg-db-hit; do measure $cfg 16; done
  for cfg in lite-sync lite-async pg-sync pg-async; do measure $cfg 16; done
done
uptime
