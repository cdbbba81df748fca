#!/usr/bin/env bash
# perf/pg1m.sh: the README's Performance figures for one or more desks of
# 1,000,000 tickets, each a SQLite file or a postgres:// URL:
#
#   ONEDESK_SECRET_KEY=$(cat KEYFILE) perf/pg1m.sh postgres://onedesk@127.0.0.1:55439/desk1m?sslmode=disable bench/bench.db
#
# For each desk, in this order (about 6 minutes a desk on a quiet machine):
#   1. store queries in process (go test -bench, RUNS runs each: min/p50/p99);
#   2. ingest: desk's BenchmarkIngestSeeded, four senders, INGEST messages
#      (it adds INGEST/2 tickets to the desk: run it on a copy you can spare);
#   3. HTTP: onedesk serve --api-rate -1 on PORT, then wrk -t1 -c8 -d8s for
#      one ticket, inbox pages and six kinds of search.
# A PostgreSQL desk needs the ONEDESK_SECRET_KEY it was made with; a SQLite
# file keeps its key beside it. Needs go, wrk, curl and python3. Run from the
# repository's root. The numbers are printed as they come and gathered in
# OUT (default perf-results.txt). SKIP=bench,ingest,http leaves parts out.
set -euo pipefail
[ $# -ge 1 ] || { sed -n 2,17p "$0"; exit 2; }
RUNS=${RUNS:-300}
INGEST=${INGEST:-3000}
PORT=${PORT:-8391}
DUR=${DUR:-8s}
OUT=${OUT:-perf-results.txt}
SKIP=${SKIP:-}
TMPD=$(mktemp -d)
BIN=$TMPD/onedesk
go build -o "$BIN" .
# Test binaries built once, run from their package's folder (output as it comes).
go test -c -o "$TMPD/store.test" ./store
go test -c -o "$TMPD/desk.test" ./desk
: >"$OUT"
say() { echo "$*" | tee -a "$OUT"; }
skip() { [[ ",$SKIP," == *",$1,"* ]]; }

benches='InboxOpenNewest|InboxAssigneeStore|InboxAllActive|InboxUnassigned|TicketDetail|SearchCommon|SearchRare|SearchOpenOnly|SearchOrderNumber|SearchEmail|SearchPhone|SearchCustomerName|SearchTwoWords|SearchTyping|SearchFiltered|SearchTenthPage'

# HTTP: a name, the wrk script, and its environment.
http_kinds() {
  run ticket perf/ticket.lua MAX_ID=1000000
  run inbox perf/inbox.lua
  run "search common" perf/search.lua WORDS=parcel,refund,order,where
  run "search rare" perf/search.lua WORDS=kalomi,zentor,velqui,barnex
  run "search order number" perf/search.lua 'WORDS=822169,490335,#301900,#920856'
  run "search email" perf/search.lua WORDS=customer32833@mail.test,customer1234@mail.test,customer99@mail.test
  run "search typing" perf/search.lua WORDS=ref,refu,refun,tra,trac,track,tracki
  run "search word+filter" perf/search.lua WORDS=parcel,delivery 'FILTER=&status=open&assignee=2'
}

run() {
  local name=$1 script=$2
  shift 2
  local line
  line=$(env "$@" wrk -t1 -c8 -d"$DUR" --latency -s "$script" "http://127.0.0.1:$PORT" 2>&1 |
    awk '/^ +50%/{p50=$2} /^ +99%/{p99=$2} /Requests\/sec/{rps=$2} /Non-2xx/{bad=$0} END{printf "p50 %s  p99 %s  %s req/s %s", p50, p99, rps, bad}')
  say "  http $name (wrk -t1 -c8): $line   [load $(cut -d' ' -f1 /proc/loadavg)]"
}

for DATA in "$@"; do
  say "== $DATA  ($(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores)"
  if ! skip bench; then
    (cd store && ONEDESK_BENCH_DB=$DATA ONEDESK_TEST_ENGINES=sqlite "$TMPD/store.test" -test.run '^$' -test.bench "$benches" -test.benchtime "${RUNS}x" -test.timeout 60m 2>&1) |
      awk '/^Benchmark/{n=$1; sub(/-[0-9]+$/, "", n); for (i=3;i<NF;i++) if ($(i+1)=="min-ms") mn=$i; else if ($(i+1)=="p50-ms") p50=$i; else if ($(i+1)=="p99-ms") p99=$i;
             printf "  %-28s min %8s  p50 %8s  p99 %8s ms\n", n, mn, p50, p99; fflush()} /FAIL|panic/{print}' | tee -a "$OUT" || true
  fi
  if ! skip ingest; then
    (cd desk && ONEDESK_BENCH_DB=$DATA ONEDESK_TEST_ENGINES=sqlite "$TMPD/desk.test" -test.run '^$' -test.bench IngestSeeded -test.benchtime "${INGEST}x" -test.timeout 60m 2>&1) |
      awk '/^Benchmark/{for (i=3;i<NF;i++) if ($(i+1)=="msgs/s") r=$i; else if ($(i+1) ~ /^p50/) p50=$i" "$(i+1); else if ($(i+1) ~ /^p99/) p99=$i" "$(i+1);
             printf "  ingest, 4 senders: %s msgs/s  %s  %s\n", r, p50, p99} /FAIL|panic/{print}' | tee -a "$OUT" || true
  fi
  if ! skip http; then
    "$BIN" --data "$DATA" --addr "127.0.0.1:$PORT" --api-rate -1 --log-level warn >"$OUT.server.log" 2>&1 &
    server=$!
    trap 'kill $server 2>/dev/null' EXIT
    for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 1; done
    jar=$(mktemp)
    csrf=$(curl -sf -c "$jar" -H 'content-type: application/json' -d '{"email":"agent1@seed.test","password":"password123"}' \
      "http://127.0.0.1:$PORT/api/auth/login" | python3 -c 'import sys,json;print(json.load(sys.stdin)["csrf_token"])')
    TOKEN=$(curl -sf -b "$jar" -H "X-CSRF-Token: $csrf" -H 'content-type: application/json' -d '{"name":"perf"}' \
      "http://127.0.0.1:$PORT/api/tokens" | python3 -c 'import sys,json;print(json.load(sys.stdin)["token"])')
    export TOKEN
    http_kinds
    kill "$server"
    wait "$server" 2>/dev/null || true
    trap - EXIT
  fi
done
say "(results in $OUT)"
