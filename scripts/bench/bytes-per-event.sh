#!/bin/bash
# Redis bytes per event in three states, each on a fresh private Redis with one serve: delivered (one http
# destination, the load tool's sink), failed (a transform that throws: a dead letter) and queued (--roles
# receiver,api: the ingest task waits). Prints `hookshift load --redis-url`'s figure and one event key's MEMORY USAGE.
# usage: scripts/bench/bytes-per-event.sh HOOKSHIFT_BINARY [REQUESTS, default 10000]; needs jq.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${1:?usage: scripts/bench/bytes-per-event.sh HOOKSHIFT_BINARY [REQUESTS]}; N=${2:-10000}
D=${BENCH_DIR:-/tmp/hsbench}/bytes; RP=16441; PORT=18441; SINK=19441
export HOOKSHIFT_REDIS_URL=redis://127.0.0.1:$RP/0 HOOKSHIFT_ADMIN_TOKEN=bench-root-token-0123456789 HOOKSHIFT_SECRET_KEY=bench-secret-key-0123456789 HOOKSHIFT_EGRESS_ALLOW=127.0.0.0/8
HS=http://127.0.0.1:$PORT
for state in ${STATES:-delivered failed queued}; do
  rm -rf $D; mkdir -p $D/redis
  redis-server --port $RP --bind 127.0.0.1 --save '' --appendonly no --dir $D/redis --logfile $D/redis.log & RPID=$!
  sleep 0.5
  roles=receiver,worker,api; [ $state = queued ] && roles=receiver,api
  $BIN serve --roles $roles --addr 127.0.0.1:$PORT > $D/serve.log 2>&1 & SPID=$!
  for i in $(seq 50); do curl -sf $HS/healthz >/dev/null && break; sleep 0.2; done
  TOK=$(curl -s -X POST $HS/v1/tenants -H "Authorization: Bearer $HOOKSHIFT_ADMIN_TOKEN" -d '{"name":"bytes"}' | jq -r .token)
  S=$(curl -s -X POST $HS/v1/sources -H "Authorization: Bearer $TOK" -d '{"name":"s","kind":"standard-webhooks"}')
  SID=$(echo $S | jq -r .id) SEC=$(echo $S | jq -r .secret)
  code=''; [ $state = failed ] && code='function handler(webhook) { throw new Error("refused on purpose") }'
  jq -n --arg s $SID --arg u "http://127.0.0.1:$SINK/" --arg c "$code" \
    '{source_id:$s,name:"d",integration:"http",url:$u} + (if $c == "" then {} else {transform:{code:$c,enabled:true}} end)' |
    curl -s -X POST $HS/v1/destinations -H "Authorization: Bearer $TOK" -d @- > /dev/null
  sink=(); [ $state = delivered ] && sink=(--sink-addr 127.0.0.1:$SINK)
  echo "== $state"
  (cd $ROOT && $BIN load --url $HS/v1/webhooks/$SID --secret $SEC --redis-url $HOOKSHIFT_REDIS_URL "${sink[@]}" --concurrency 32 --requests $N 2>&1 | grep -E "bytes per accepted|delivered [0-9]")
  K=$(redis-cli -p $RP --scan --pattern 'hookshift:{e:*}:event' | head -1)
  [ -n "$K" ] && echo "one event key: $(redis-cli -p $RP memory usage $K) B (MEMORY USAGE), $(redis-cli -p $RP strlen $K) B of value"
  echo "keys: $(redis-cli -p $RP dbsize); asynq archived: $(redis-cli -p $RP --scan --pattern 'asynq:*:archived' | xargs -r -n1 redis-cli -p $RP zcard | paste -sd+ | bc 2>/dev/null)"
  [ -n "${KEEP:-}" ] && { kill $SPID; wait $SPID 2>/dev/null; echo "kept Redis on port $RP (pid $RPID)"; break; }
  kill $SPID; wait $SPID 2>/dev/null; kill $RPID; wait $RPID 2>/dev/null
done
