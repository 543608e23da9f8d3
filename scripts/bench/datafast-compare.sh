#!/bin/bash
# End to end with the DataFast default template as the transform vs no transform: one serve (all roles, concurrency 64), one Redis, two sources, alternating loads of 6,000 events; needs jq.
# usage: scripts/bench/datafast-compare.sh HOOKSHIFT_BINARY
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${1:?usage: scripts/bench/datafast-compare.sh HOOKSHIFT_BINARY}; D=${BENCH_DIR:-/tmp/hsbench}/datafast; RP=16431; PORT=18431
export HOOKSHIFT_REDIS_URL=redis://127.0.0.1:$RP/0 HOOKSHIFT_ADMIN_TOKEN=bench-root-token-0123456789 HOOKSHIFT_SECRET_KEY=bench-secret-key-0123456789 HOOKSHIFT_EGRESS_ALLOW=127.0.0.0/8
rm -rf $D/redis; mkdir -p $D/redis
redis-server --port $RP --bind 127.0.0.1 --save '' --appendonly no --dir $D/redis --logfile $D/redis.log & RPID=$!
sleep 0.5
$BIN serve --roles receiver,worker,api --addr 127.0.0.1:$PORT --concurrency 64 > $D/serve.log 2>&1 & SPID=$!
for i in $(seq 50); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.2; done
HS=http://127.0.0.1:$PORT
TOK=$(curl -s -X POST $HS/v1/tenants -H "Authorization: Bearer $HOOKSHIFT_ADMIN_TOKEN" -d '{"name":"bench"}' | jq -r .token)
mk() { # name sinkport code-or-empty
  local S=$(curl -s -X POST $HS/v1/sources -H "Authorization: Bearer $TOK" -d '{"name":"'$1'","kind":"standard-webhooks"}')
  local SID=$(echo $S | jq -r .id) SEC=$(echo $S | jq -r .secret)
  if [ -n "$3" ]; then
    jq -n --arg s $SID --arg u "http://127.0.0.1:$2/" --rawfile c "$3" '{source_id:$s,name:"d",integration:"http",url:$u,transform:{code:$c,enabled:true}}' > $D/dest.json
  else
    jq -n --arg s $SID --arg u "http://127.0.0.1:$2/" '{source_id:$s,name:"d",integration:"http",url:$u}' > $D/dest.json
  fi
  curl -s -X POST $HS/v1/destinations -H "Authorization: Bearer $TOK" -d @$D/dest.json | jq -r .id > /dev/null
  echo "$SID $SEC"
}
read P_SID P_SEC < <(mk plain 19431 "")
read F_SID F_SEC < <(mk datafast 19432 $ROOT/integrations/datafast/templates/default.js)
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in 1 2; do
  for k in plain datafast; do
    if [ $k = plain ]; then SID=$P_SID SEC=$P_SEC SINK=19431; else SID=$F_SID SEC=$F_SEC SINK=19432; fi
    echo "== $k (round $round)"
    (cd $ROOT && $BIN load --url $HS/v1/webhooks/$SID --secret $SEC --sink-addr 127.0.0.1:$SINK --concurrency 32 --requests 6000 2>&1 | grep -E "events/s delivered|delivered [0-9]")
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
kill $SPID; wait $SPID 2>/dev/null; kill $RPID; wait $RPID 2>/dev/null
