#!/bin/bash
# Cases 1 and 2 of bench/README.md, alternating: anonymous, Basic (reuse off),
# Basic with reuse on. Needs the binaries and configs of bench/README.md in $B.
B=/tmp/authbench; cd $B
run_server() { bin/authserver serve --config $1 2> $B/serve.err & SRV=$!; sleep 1.5; }
stop_server() { grep VmHWM /proc/$SRV/status; kill -INT $SRV; wait $SRV; }
lg() { bin/loadgen "$@" --concurrency ${C:-16} --duration ${D:-10s} --warmup 2s --json; }
summ() { jq -c '{ok_per_second, p50: .latency_ms.p50, statuses}' ; }
for round in 1 2; do
  run_server small-noreuse.yaml
  echo "anon r$round: $(lg --scenario anonymous --project proj00000 | summ)"
  echo "basic r$round: $(lg --scenario basic --user user000001 --password Bench-pw-1 --project proj00000 | summ)"
  stop_server
  run_server small-reuse.yaml
  echo "reuse r$round: $(lg --scenario basic --user user000001 --password Bench-pw-1 --project proj00000 --scope-mode repeated | summ)"
  stop_server
done
