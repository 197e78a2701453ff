#!/bin/bash
# Case 3 of bench/README.md, alternating the large and small PostgreSQL
# datasets at 16 and 1 connections. Needs the configs of bench/README.md in $B.
B=/tmp/authbench; cd $B
run_server() { bin/authserver serve --config $1 2> $B/serve.err & SRV=$!; sleep 1.5; }
stop_server() { grep VmHWM /proc/$SRV/status; kill -INT $SRV; wait $SRV; }
lg() { bin/loadgen --scenario basic-many --users 10 --password Bench-pw-1 --project 'proj%05d' --projects 10 --scope-mode distinct --concurrency ${C} --duration ${D:-8s} --warmup 3s --json; }
summ() { jq -c '{ok_per_second, p50: .latency_ms.p50, p90: .latency_ms.p90}' ; }
for C in 16 1; do
 for round in 1 2; do
  for db in large small; do
    run_server pg-$db.yaml
    echo "C=$C $db r$round: $(C=$C lg | summ)"
    stop_server
  done
 done
done
