#!/bin/bash
# Benchmark run for docs/benchmarks.md: a receiver-only process and an api process on a fresh Redis, then `hookshift load ARGS` against them; prints the CPU the receiver and Redis used.
# usage: scripts/bench/receiver-compare.sh HOOKSHIFT_BINARY LABEL [hookshift load flags...]
# LOADER (default: the same binary) runs the load; work files go to ${BENCH_DIR:-/tmp/hsbench}/LABEL.
# REPLICA=1 also starts a replica of the Redis (for HOOKSHIFT_ACK_REPLICAS, passed through the environment).
set -u
BIN=$1; LABEL=$2; shift 2
D=${BENCH_DIR:-/tmp/hsbench}/$LABEL; LOADER=${LOADER:-$BIN}; rm -rf $D; mkdir -p $D/redis
RP=16411 RECV=18411 API=18412
export HOOKSHIFT_REDIS_URL=redis://127.0.0.1:$RP/0 HOOKSHIFT_ADMIN_TOKEN=bench-root-token-0123456789 HOOKSHIFT_SECRET_KEY=bench-secret-key-0123456789 HOOKSHIFT_EGRESS_ALLOW=127.0.0.0/8
redis-server --port $RP --bind 127.0.0.1 --save '' --appendonly no --dir $D/redis --logfile $D/redis.log & RPID=$!
sleep 0.5
REPID=
if [ "${REPLICA:-0}" = 1 ]; then
  mkdir -p $D/replica
  redis-server --port $((RP+1)) --bind 127.0.0.1 --save '' --appendonly no --dir $D/replica --logfile $D/replica.log --replicaof 127.0.0.1 $RP & REPID=$!
  for i in $(seq 100); do redis-cli -p $((RP+1)) info replication | grep -q master_link_status:up && break; sleep 0.1; done
fi
$BIN serve --roles receiver --addr 127.0.0.1:$RECV > $D/recv.log 2>&1 & SPID=$!
$BIN serve --roles api --addr 127.0.0.1:$API > $D/api.log 2>&1 & APID=$!
for i in $(seq 50); do curl -sf http://127.0.0.1:$RECV/healthz >/dev/null && curl -sf http://127.0.0.1:$API/healthz > /dev/null && break; sleep 0.2; done
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
S0=$(cpu $SPID); R0=$(cpu $RPID)
(cd "$(dirname "$0")/../.." && $LOADER load --api http://127.0.0.1:$API --url http://127.0.0.1:$RECV --admin-token $HOOKSHIFT_ADMIN_TOKEN "$@")
S1=$(cpu $SPID); R1=$(cpu $RPID)
echo "cpu ticks (1/100 s) during the runs: receiver $((S1-S0)) redis $((R1-R0))"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
kill $SPID $APID; wait $SPID $APID 2>/dev/null; [ -n "$REPID" ] && { kill $REPID; wait $REPID 2>/dev/null; }
kill $RPID; wait $RPID 2>/dev/null
