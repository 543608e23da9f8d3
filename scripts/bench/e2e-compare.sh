#!/bin/bash
# Benchmark run for docs/benchmarks.md: one process with every role on a fresh Redis, then `hookshift load --redis-url --sink-addr ARGS`;
# prints the CPU hookshift and Redis used and the Redis commands run (the --compare-processing baseline included, when asked for).
# usage: scripts/bench/e2e-compare.sh HOOKSHIFT_BINARY LABEL [hookshift load flags...]
# LOADER (default: the same binary) runs the load; work files go to ${BENCH_DIR:-/tmp/hsbench}/LABEL.
set -u
BIN=$1; LABEL=$2; shift 2
D=${BENCH_DIR:-/tmp/hsbench}/$LABEL; LOADER=${LOADER:-$BIN}; rm -rf $D; mkdir -p $D/redis
RP=16421 RECV=18421
export HOOKSHIFT_REDIS_URL=redis://127.0.0.1:$RP/0 HOOKSHIFT_ADMIN_TOKEN=bench-root-token-0123456789 HOOKSHIFT_SECRET_KEY=bench-secret-key-0123456789 HOOKSHIFT_EGRESS_ALLOW=127.0.0.0/8
redis-server --port $RP --bind 127.0.0.1 --save '' --appendonly no --dir $D/redis --logfile $D/redis.log & RPID=$!
sleep 0.5
$BIN serve --roles receiver,worker,api --addr 127.0.0.1:$RECV > $D/serve.log 2>&1 & SPID=$!
for i in $(seq 50); do curl -sf http://127.0.0.1:$RECV/healthz >/dev/null && break; sleep 0.2; done
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
redis-cli -p $RP config resetstat > /dev/null
S0=$(cpu $SPID); R0=$(cpu $RPID)
(cd "$(dirname "$0")/../.." && $LOADER load --api http://127.0.0.1:$RECV --admin-token $HOOKSHIFT_ADMIN_TOKEN --redis-url $HOOKSHIFT_REDIS_URL --sink-addr 127.0.0.1:19421 "$@")
S1=$(cpu $SPID); R1=$(cpu $RPID)
echo "cpu ticks (1/100 s) during the runs: hookshift $((S1-S0)) redis $((R1-R0))"
echo "redis commands (scripts' inner commands included): $(redis-cli -p $RP info commandstats | awk -F'[=,]' '/^cmdstat_/ {n+=$2} END {print n}')"
redis-cli -p $RP info commandstats > $D/commandstats.txt
echo "redis round trips (reads processed, every client): $(redis-cli -p $RP info stats | awk -F: '/^total_reads_processed/ {print $2+0}')"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
kill $SPID; wait $SPID 2>/dev/null; kill $RPID; wait $RPID 2>/dev/null
