#!/usr/bin/env bash
# bench/sidebyside.sh: authserver against cesanta/docker_auth and a bare
# net/http floor, side by side in one run, on this machine's loopback.
#
#   bench/sidebyside.sh DOCKER_AUTH FLOOR AUTHSERVER [BASELINE]
#
# DOCKER_AUTH is a docker_auth binary (auth_server), FLOOR the binary of
# bench/floor, AUTHSERVER (and optionally BASELINE, an older authserver to
# compare with) authserver binaries. The script builds none of them. It
# writes a key pair of one type (ALG) and the configs of every server to a
# temporary directory, starts every server once (each on its own port, idle
# while another is measured), then runs each case against each server in
# turn, round after round (A B C, then C B A, ...), so that what else runs
# on the machine falls on every side alike, and prints req/s and p99 per
# round, their medians, and the ratios taken round by round.
#
# Environment (defaults in brackets):
#   ALG       ES256 or RS256 (RSA 2048) [ES256]; both servers sign with the same key
#   ROUNDS    rounds [3]       DURATION  seconds of each measured run [8]
#   CONNS     connections [16] THREADS   wrk threads [2]
#   CASES     of anon, anon-reuse, basic, reuse [anon basic reuse]
#   AUDIT     authserver's audit.mode: sync (the default as shipped) or async [sync]
#   X5C       authserver's token.x5c: true (the default: the certificate rides in every
#             token's header, 2.4 KB answers) or false (kid only, as docker_auth's) [true]
#   BOTH_AUDIT=1   also measure anon with the other audit mode
#   DA_BASIC=1     also measure docker_auth's Basic login (a bcrypt per request: ~30 req/s)
#   OUT       directory for configs, logs and results.tsv [a new temp dir]
#   PG        a PostgreSQL server's URL without a database (postgres://postgres@127.0.0.1:5432):
#             each authserver gets a fresh database on it (dropped and created with
#             $PSQL, default psql) instead of its SQLite file [unset: SQLite]
#   LOADGEN   a bench/loadgen binary, used when wrk is not installed
#   RATE      requests a second, open loop (needs LOADGEN): every server gets the same
#             load and latency runs from when each request was due, so p99s compare
#             at one rate [unset: wrk's closed loop, each server at its own rate]
#
# Cases (the same request to every server; the project proj00000 is public):
#   anon   GET without credentials, scope repository:proj00000/app:pull
#   basic  the same with Basic credentials of a local user (authserver: the
#          credential cache warm after the first request; token.reuse_window 0)
#   reuse  basic against an authserver with token.reuse_window 30s: the same
#          grant again is answered with the token already signed
#   anon-reuse  anon against that authserver (token.reuse_window 30s, as
#          shipped): a public grant asked for again is answered with the
#          token already signed, and docker_auth signs every time
# The floor answers every case with a fixed JSON body.
set -euo pipefail

[ $# -ge 3 ] || { sed -n '2,45p' "$0" >&2; exit 2; }
DA=$(realpath "$1") FLOOR=$(realpath "$2") NEW=$(realpath "$3") BASE=${4:+$(realpath "$4")}
for b in "$DA" "$FLOOR" "$NEW" ${BASE:+"$BASE"}; do [ -x "$b" ] || { echo "sidebyside: $b is not an executable" >&2; exit 2; }; done
ALG=${ALG:-ES256} ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-8} CONNS=${CONNS:-16} THREADS=${THREADS:-2}
CASES=${CASES:-anon basic reuse} AUDIT=${AUDIT:-sync} X5C=${X5C:-true}
OUT=${OUT:-$(mktemp -d /tmp/sidebyside.XXXXXX)}
mkdir -p "$OUT"
USER_NAME=bench PASSWORD=Bench-pw-1
# bcrypt (cost 10) of Bench-pw-1, for docker_auth's static user.
DA_HASH='$2a$10$5Kd69PMmnHiUkq3eVAEzTOj5VYIT0NGJc2lVWSlJuqEDm1W4cnL7i'
SCOPE='repository:proj00000/app:pull'

if [ -n "${RATE:-}" ]; then
  [ -n "${LOADGEN:-}" ] || { echo "sidebyside: RATE needs LOADGEN=path/to/loadgen (wrk has no open loop)" >&2; exit 2; }
  TOOL=loadgen
elif command -v wrk >/dev/null; then TOOL=wrk
elif [ -n "${LOADGEN:-}" ]; then TOOL=loadgen
else echo "sidebyside: needs wrk (apt-get install wrk) or LOADGEN=path/to/loadgen" >&2; exit 2; fi

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done; for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# --- keys and configs --------------------------------------------------------
"$NEW" keygen --dir "$OUT/key" --alg "$ALG" >/dev/null
storage() { # name: the storage line of authserver name's config
  if [ -z "${PG:-}" ]; then echo "storage: {driver: sqlite, dsn: $OUT/$1.db}"; return; fi
  local db=bench_${1//-/_}
  PGOPTIONS="-c client_min_messages=warning" "${PSQL:-psql}" "$PG/postgres?sslmode=disable" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
  echo "storage: {driver: postgres, dsn: '$PG/$db?sslmode=disable'}"
}
authserver_config() { # name port reuse audit_mode
  cat >"$OUT/$1.yaml" <<EOF
server: {addr: 127.0.0.1:$2}
token: {issuer: bench-issuer, service: bench-registry, key: $OUT/key/token.key, certificate: $OUT/key/token.crt, x5c: $X5C, reuse_window: $3}
cache: {credentials_ttl: 5m, credentials_max: 100000}
$(storage "$1")
audit: {mode: $4}
passwords: {bcrypt_cost: 10}
log: {level: warn}
EOF
}
seed() { # binary config
  "$1" --config "$2" migrate >/dev/null
  "$1" --config "$2" project create proj00000 --public >/dev/null
  printf '%s\n' "$PASSWORD" | "$1" --config "$2" user add "$USER_NAME" --password-stdin >/dev/null
}
other_audit() { [ "$AUDIT" = sync ] && echo async || echo sync; }
cat >"$OUT/docker_auth.yaml" <<EOF
server: {addr: "127.0.0.1:5101"}
token: {issuer: bench-issuer, expiration: 1800, certificate: $OUT/key/token.crt, key: $OUT/key/token.key}
users:
  "": {}
  "$USER_NAME": {password: "$DA_HASH"}
acl:
  - match: {account: "/.+/"}
    actions: ["pull"]
  - match: {account: ""}
    actions: ["pull"]
EOF

# --- servers ---------------------------------------------------------------
# target name → URL path and query; a server per target.
declare -A URL
start() { # name log command...
  local name=$1 log=$2; shift 2
  "$@" >"$OUT/$log.log" 2>&1 &
  PIDS+=($!)
}
Q="service=bench-registry&scope=$SCOPE"
start docker_auth docker_auth "$DA" --v=0 "$OUT/docker_auth.yaml"
URL[da]="http://127.0.0.1:5101/auth?$Q"
start floor floor "$FLOOR" --addr 127.0.0.1:5102
URL[floor]="http://127.0.0.1:5102/service/token?$Q"
servers() { # label binary base_port
  local label=$1 bin=$2 port=$3
  authserver_config "$label" "$port" 0s "$AUDIT"; seed "$bin" "$OUT/$label.yaml"
  start "$label" "$label" "$bin" serve --config "$OUT/$label.yaml"
  URL[$label]="http://127.0.0.1:$port/service/token?$Q"
  authserver_config "$label-reuse" $((port + 1)) 30s "$AUDIT"; seed "$bin" "$OUT/$label-reuse.yaml"
  start "$label-reuse" "$label-reuse" "$bin" serve --config "$OUT/$label-reuse.yaml"
  URL[$label-reuse]="http://127.0.0.1:$((port + 1))/service/token?$Q"
  if [ -n "${BOTH_AUDIT:-}" ]; then
    authserver_config "$label-$(other_audit)" $((port + 2)) 0s "$(other_audit)"; seed "$bin" "$OUT/$label-$(other_audit).yaml"
    start "$label-$(other_audit)" "$label-$(other_audit)" "$bin" serve --config "$OUT/$label-$(other_audit).yaml"
    URL[$label-$(other_audit)]="http://127.0.0.1:$((port + 2))/service/token?$Q"
  fi
}
servers new "$NEW" 5111
[ -n "$BASE" ] && servers base "$BASE" 5121
sleep 2

AUTH="Basic $(printf '%s:%s' "$USER_NAME" "$PASSWORD" | base64 -w0)"
# targets of a case: name=url-key:credentials(anon|basic)
targets() {
  case $1 in
  anon)
    echo "docker_auth=da:anon authserver=new:anon floor=floor:anon"
    [ -n "$BASE" ] && echo "baseline=base:anon"
    [ -n "${BOTH_AUDIT:-}" ] && echo "authserver-$(other_audit)=new-$(other_audit):anon" && [ -n "$BASE" ] && echo "baseline-$(other_audit)=base-$(other_audit):anon"
    ;;
  basic)
    echo "authserver=new:basic"
    [ -n "$BASE" ] && echo "baseline=base:basic"
    [ -n "${DA_BASIC:-}" ] && echo "docker_auth=da:basic"
    ;;
  reuse)
    echo "authserver=new-reuse:basic floor=floor:basic"
    [ -n "$BASE" ] && echo "baseline=base-reuse:basic"
    ;;
  anon-reuse)
    echo "docker_auth=da:anon authserver=new-reuse:anon"
    [ -n "$BASE" ] && echo "baseline=base-reuse:anon"
    ;;
  esac
  return 0
}

# check answers one request and insists on a token (and, from authserver, the
# right alg), so that no run measures an error page.
check() { # url creds
  local h=() body
  [ "$2" = basic ] && h=(-H "Authorization: $AUTH")
  body=$(curl -sf "${h[@]}" "$1") || { echo "sidebyside: $1 failed" >&2; return 1; }
  case $body in *'"token"'*) ;; *) echo "sidebyside: $1 answered without a token: $body" >&2; return 1 ;; esac
}

# measure prints "req/s p99_ms errors" for one run.
measure() { # url creds seconds
  local h=()
  if [ "$TOOL" = wrk ]; then
    [ "$2" = basic ] && h=(-H "Authorization: $AUTH")
    wrk -t"$THREADS" -c"$CONNS" -d"$3"s --latency "${h[@]}" "$1" | awk '
      function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
      /Requests\/sec:/ { rps = $2 }
      $1 == "99%" { p99 = ms($2) }
      /Non-2xx or 3xx responses:/ { bad = $NF }
      /Socket errors:/ { bad += 0 }
      END { printf "%.1f %.3f %d\n", rps, p99, bad + 0 }'
  else
    local a=()
    [ "$2" = basic ] && a=(--scenario basic --user "$USER_NAME" --password "$PASSWORD") || a=(--scenario anonymous)
    local u=${1%%\?*}
    "$LOADGEN" --url "$u" --service bench-registry --project proj00000 "${a[@]}" --concurrency "$CONNS" ${RATE:+--rate "$RATE"} \
      --duration "$3"s --warmup 0s --json | jq -r '"\(.ok_per_second) \(.latency_ms.p99) \(.requests - .ok)"'
  fi
}

echo "# $(date -u +%FT%TZ) $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# ALG=$ALG AUDIT=$AUDIT X5C=$X5C ROUNDS=$ROUNDS DURATION=${DURATION}s CONNS=$CONNS tool=$TOOL${RATE:+ RATE=$RATE} out=$OUT"
for c in $CASES; do
  for t in $(targets "$c"); do
    spec=${t#*=}; check "${URL[${spec%%:*}]}" "${spec#*:}"
    measure "${URL[${spec%%:*}]}" "${spec#*:}" 1 >/dev/null # warm-up: connections, caches
  done
done
: >"$OUT/results.tsv"
for round in $(seq 1 "$ROUNDS"); do
  for c in $CASES; do
    list=$(targets "$c")
    [ $((round % 2)) -eq 0 ] && list=$(echo $list | tr ' ' '\n' | tac)
    for t in $list; do
      name=${t%%=*} spec=${t#*=}
      read -r rps p99 bad < <(measure "${URL[${spec%%:*}]}" "${spec#*:}" "$DURATION")
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$c" "$name" "$rps" "$p99" "$bad" | tee -a "$OUT/results.tsv" >&2
    done
  done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- the table -----------------------------------------------------------------
awk -F'\t' -v alg="$ALG" -v rate="${RATE:-}" '
function median(s,   a, n, i, j, t) {
  n = split(s, a, " ")
  for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
  return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ rps[$2, $3, $1] = $4; p99[$2, $3, $1] = $5; bad[$2, $3] += $6; if (!(($2, $3) in seen)) { seen[$2, $3] = 1; order[++n] = $2 SUBSEP $3 }
  if ($1 > rounds) rounds = $1 }
function ratio(c1, t1, c2, t2, label,   r, s, lo, hi, v) {
  if (!((c1, t1, 1) in rps) || !((c2, t2, 1) in rps)) return
  s = ""; lo = ""; hi = ""
  for (r = 1; r <= rounds; r++) { v = rps[c1, t1, r] / rps[c2, t2, r]; s = s " " v; if (lo == "" || v < lo) lo = v; if (hi == "" || v > hi) hi = v }
  printf "| %s | **%.2f** | %.2f–%.2f |\n", label, median(s), lo, hi
}
END {
  printf "\n| case (%s) | server | req/s per round | median req/s | p99 ms per round | median p99 ms | non-2xx |\n|---|---|---|---|---|---|---|\n", alg
  for (i = 1; i <= n; i++) {
    split(order[i], k, SUBSEP); s = ""; q = ""; rs = ""; qs = ""
    for (r = 1; r <= rounds; r++) { s = s " " rps[k[1], k[2], r]; q = q " " p99[k[1], k[2], r]; rs = rs (r > 1 ? " / " : "") sprintf("%.0f", rps[k[1], k[2], r]); qs = qs (r > 1 ? " / " : "") sprintf("%.2f", p99[k[1], k[2], r]) }
    printf "| %s | %s | %s | %.0f | %s | %.2f | %d |\n", k[1], k[2], rs, median(s), qs, median(q), bad[k[1], k[2]]
  }
  if (rate != "") { printf "\nRATE=%s: every server was sent the same load; compare the p99 column (the rates are all the same).\n", rate; exit }
  printf "\n| ratio (round by round) | median | range |\n|---|---|---|\n"
  ratio("anon", "authserver", "anon", "docker_auth", "anonymous: authserver / docker_auth")
  ratio("anon", "baseline", "anon", "docker_auth", "anonymous: baseline / docker_auth")
  ratio("anon", "authserver", "anon", "baseline", "anonymous: authserver / baseline")
  ratio("anon", "authserver-async", "anon", "docker_auth", "anonymous, audit async: authserver / docker_auth")
  ratio("anon", "authserver-sync", "anon", "docker_auth", "anonymous, audit sync: authserver / docker_auth")
  ratio("anon", "authserver", "anon", "floor", "anonymous: authserver / floor")
  ratio("anon", "docker_auth", "anon", "floor", "anonymous: docker_auth / floor")
  ratio("basic", "authserver", "anon", "docker_auth", "Basic (cache warm): authserver / docker_auth anonymous")
  ratio("basic", "baseline", "anon", "docker_auth", "Basic (cache warm): baseline / docker_auth anonymous")
  ratio("basic", "authserver", "basic", "docker_auth", "Basic: authserver (cache warm) / docker_auth (bcrypt)")
  ratio("basic", "authserver", "basic", "baseline", "Basic: authserver / baseline")
  ratio("reuse", "authserver", "reuse", "floor", "reuse: authserver / floor")
  ratio("reuse", "baseline", "reuse", "floor", "reuse: baseline / floor")
  ratio("reuse", "authserver", "reuse", "baseline", "reuse: authserver / baseline")
  ratio("anon-reuse", "authserver", "anon-reuse", "docker_auth", "anonymous, reuse window 30s (shipped): authserver / docker_auth")
  ratio("anon-reuse", "baseline", "anon-reuse", "docker_auth", "anonymous, reuse window 30s (shipped): baseline / docker_auth")
}' "$OUT/results.tsv"
