#!/bin/bash
# A normal login measured while 100 guessers try wrong passwords for a name
# that does not exist, from another loopback address (loadgen's flooded
# scenario), for one or more authserver binaries, alternating A B A B.
#
#   bench/measure-flood.sh OUT_DIR BIN [BIN...]
#
# Each case runs every binary on a fresh SQLite store in OUT_DIR with
# bcrypt cost 10, the credential cache on and log level warn; the throttle
# at its defaults ("throttle") and off ("no-throttle", so only the bounded
# password checks stand between the guessers and the CPU). The measured
# login is user000000 from 127.0.0.1 (2 workers); the guessers are 100
# workers from 127.0.0.2. Prints one JSON line per run.
set -eu
out=$1; shift
mkdir -p "$out"
lg=$out/loadgen
go build -o "$lg" ./bench/loadgen
go build -o "$out/seed" ./bench/seed
"${1}" keygen --dir "$out" --alg ES256 >/dev/null 2>&1 || true
port=5091
for case in throttle no-throttle; do
  thr=true; [ "$case" = no-throttle ] && thr=false
  cfg=$out/$case.yaml
  cat > "$cfg" <<YAML
server: {addr: 127.0.0.1:$port}
token: {key: $out/token.key, certificate: $out/token.crt}
storage: {driver: sqlite, dsn: $out/$case.db}
passwords: {bcrypt_cost: 10}
throttle: {enabled: $thr}
log: {level: warn}
YAML
  rm -f "$out/$case.db"
  "$out/seed" --config "$cfg" --users 1 --projects 1 --members 1 --password Bench-pw-1 >/dev/null
  for round in 1 2; do
    for bin in "$@"; do
      "$bin" serve --config "$cfg" 2>>"$out/serve.err" & srv=$!
      for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
      r=$("$lg" --url "http://127.0.0.1:$port/service/token" --scenario flooded --user user000000 --password Bench-pw-1 \
        --project proj00000 --source 127.0.0.1 --concurrency 2 --flood-workers 100 --flood-source 127.0.0.2 \
        --duration 10s --warmup 2s --timeout 30s --json | jq -c '{ok_per_second, latency_ms, status, flood}')
      echo "{\"case\":\"$case\",\"round\":$round,\"bin\":\"$bin\",\"result\":$r}"
      kill -INT $srv; wait $srv || true
    done
  done
done
