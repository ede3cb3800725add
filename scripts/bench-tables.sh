#!/usr/bin/env bash
# Produces the measurements behind BENCHMARKS.md with `trent bench`, one JSON line per row.
#
#   scripts/bench-tables.sh OUT-DIR [SECTION...]
#
# Sections (all but `million`, `postgres` and `ideal` when none are named):
#   headline     Encrypt(1 KB) at 32 connections, five 10-second runs
#   ops          every --op, 1 KB, 32 connections, 1 key
#   keys         Encrypt over 1 .. 100,000 keys, audit on and (second server) off
#   payload      Encrypt with 1 B .. 4 KB plaintexts
#   connections  Encrypt with 1 .. 256 connections
#   sign         Sign by key spec, and GenerateMac
#   audit        encrypt, decrypt, describe-key, create-key with the audit trail off, then on
#   moto         the same bench against `moto_server` (pip install 'moto[server]'), then Trent
#   postgres     Encrypt and DescribeKey with the key store in PostgreSQL vs SQLite (needs
#                PostgreSQL's server binaries; starts a throwaway cluster)
#   million      1,000,000 keys vs 10 keys on one server, audit off then on (creates the keys:
#                about 10 minutes, 1 GB of trent.db plus the audit trail)
#   ideal        the audit-writer experiment of crates/trent-bench/experiments (needs TRENT_IDEAL,
#                a trent binary built with that patch applied)
#
# Environment: TRENT (default target/release/trent; build with `cargo build --release -p trent`),
# DUR (measured window per row, default 5s), WARMUP (default 1s).
#
# Every row runs `trent bench --compare-baseline`: the in-process baseline server is driven with
# the same client and settings right after the row, and the row's `ratio_to_baseline` is Trent's
# throughput over it. Render the tables with `python3 scripts/bench_tables.py OUT-DIR`.
set -euo pipefail

OUT=${1:?usage: scripts/bench-tables.sh OUT-DIR [SECTION...]}
shift
SECTIONS=${*:-headline ops keys payload connections sign audit moto}
REPO=$(cd "$(dirname "$0")/.." && pwd)
TRENT=${TRENT:-$REPO/target/release/trent}
DUR=${DUR:-5s}
WARMUP=${WARMUP:-1s}
mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# launch NAME [serve flags...]: a server on OUT/NAME; sets SERVER_PID, EP and CRED.
launch() {
  local name=$1
  shift
  TRENT_LOG=warn "$TRENT" serve --listen 127.0.0.1:0 --data-dir "$OUT/$name" "$@" \
    >"$OUT/$name.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  until grep -q "listening on" "$OUT/$name.log" 2>/dev/null; do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT/$name.log" >&2; exit 1; }
    sleep 0.2
  done
  EP=$(grep -m1 "listening on" "$OUT/$name.log" | sed 's/.*listening on //')
  CRED=$OUT/$name/credentials
}

# start NAME [serve flags...]: a fresh server on an empty data directory OUT/NAME.
start() {
  rm -rf "${OUT:?}/$1" "$OUT/$1.log"
  launch "$@"
}

# restart NAME [serve flags...]: stops the current server, then the same data directory with
# new flags.
restart() {
  stop
  launch "$@"
}

stop() {
  kill "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
}

# row TABLE LABEL [bench flags...]: one measurement against EP/CRED, appended to RESULTS.
row() {
  local table=$1 label=$2
  shift 2
  local line
  line=$("$TRENT" bench --endpoint "$EP" --credentials "$CRED" --compare-baseline \
    --duration "$DUR" --warmup "$WARMUP" --json "$@" 2>>"$OUT/bench.err" | tail -n 1)
  python3 - "$table" "$label" "$line" "$(cut -d' ' -f1 /proc/loadavg)" >>"$RESULTS" <<'EOF'
import json, sys
table, label, line, load = sys.argv[1:5]
print(json.dumps({"table": table, "label": label, "load": float(load), "r": json.loads(line)}))
EOF
  grep VmRSS "/proc/$SERVER_PID/status" 2>/dev/null | sed "s|^|$table $label: |" >>"$OUT/rss.txt" || true
  python3 - "$RESULTS" <<'EOF' >&2
import json, sys
x = json.loads(open(sys.argv[1]).read().splitlines()[-1]); r = x["r"]
print(f'{x["table"]:>12} {x["label"]:<28} {r["requests_per_second"]:>9.0f} req/s  ratio '
      f'{r["ratio_to_baseline"]:.3f}  p99 {r["p99_ms"]:.2f} ms  errors {r["errors"]}  load {x["load"]}')
EOF
}

section_headline() {
  start main
  for i in 1 2 3 4 5; do DUR=10s row headline "run $i" --op encrypt; done
  stop
}

section_ops() {
  start main
  for op in encrypt decrypt generate-data-key re-encrypt describe-key create-key sign verify \
    generate-mac mix; do
    row ops "$op" --op "$op"
  done
  stop
}

section_keys() {
  start main
  for k in 1 10 1000 10000 100000; do
    row keys "$k" --op encrypt --keys "$k" --reuse-keys --setup-concurrency 64
  done
  restart main --key-cache-records 131072
  row keys "100000, --key-cache-records 131072" --op encrypt --keys 100000 --reuse-keys --setup-concurrency 64
  stop
  start noaudit --no-audit
  for k in 1 10 1000 10000 100000; do
    row keys-noaudit "$k" --op encrypt --keys "$k" --reuse-keys --setup-concurrency 64
  done
  restart noaudit --no-audit --key-cache-records 131072
  row keys-noaudit "100000, --key-cache-records 131072" --op encrypt --keys 100000 --reuse-keys --setup-concurrency 64
  stop
}

section_payload() {
  start main
  for p in 1 256 1024 4096; do row payload "$p" --op encrypt --payload-bytes "$p"; done
  stop
}

section_connections() {
  start main
  for c in 1 8 32 128 256; do row connections "$c" --op encrypt --connections "$c"; done
  stop
}

section_sign() {
  start main
  for spec in ECC_NIST_P256 ECC_NIST_P384 ECC_SECG_P256K1 ECC_NIST_EDWARDS25519 RSA_2048 \
    RSA_4096 ML_DSA_44 ML_DSA_65; do
    row sign "sign $spec" --op sign --signing-key-spec "$spec"
  done
  row sign "verify ECC_NIST_P256" --op verify
  row sign "generate-mac HMAC_256" --op generate-mac
  stop
}

section_audit() {
  start noaudit --no-audit
  local off_ep=$EP off_cred=$CRED off_pid=$SERVER_PID
  start main
  local on_ep=$EP on_cred=$CRED on_pid=$SERVER_PID
  for op in encrypt decrypt describe-key create-key; do
    EP=$off_ep CRED=$off_cred row audit "$op off" --op "$op"
    EP=$on_ep CRED=$on_cred row audit "$op on" --op "$op"
  done
  kill "$off_pid" "$on_pid"
  wait "$off_pid" "$on_pid" 2>/dev/null || true
}

section_moto() {
  command -v moto_server >/dev/null || { echo "moto_server not installed: pip install 'moto[server]'" >&2; return 1; }
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  moto_server -H 127.0.0.1 -p "$port" >"$OUT/moto.log" 2>&1 &
  local moto_pid=$!
  PIDS+=("$moto_pid")
  until curl -s -o /dev/null "http://127.0.0.1:$port/"; do sleep 0.2; done
  printf '[default]\naws_access_key_id = AKIAEXAMPLEEXAMPLE00\naws_secret_access_key = %s\n' \
    secretsecretsecretsecretsecretsecret0000 >"$OUT/moto-credentials"
  start main
  local trent_ep=$EP trent_cred=$CRED
  for op in encrypt decrypt generate-data-key re-encrypt describe-key create-key; do
    EP=http://127.0.0.1:$port CRED=$OUT/moto-credentials row moto "$op moto" --op "$op"
    EP=$trent_ep CRED=$trent_cred row moto "$op trent" --op "$op"
  done
  stop
  kill "$moto_pid"
  wait "$moto_pid" 2>/dev/null || true
}

section_postgres() {
  # shellcheck source=lib/postgres.sh
  source "$REPO/scripts/lib/postgres.sh"
  trent_pg_start
  start sqlite
  local sq_ep=$EP sq_cred=$CRED sq_pid=$SERVER_PID
  start postgres --database-url "$TRENT_TEST_POSTGRES_URL"
  local pg_ep=$EP pg_cred=$CRED pg_pid=$SERVER_PID
  for args in "encrypt 1" "encrypt 10000" "describe-key 1" "create-key 1"; do
    set -- $args
    EP=$sq_ep CRED=$sq_cred row postgres "$1 keys=$2 sqlite" --op "$1" --keys "$2" --setup-concurrency 64
    EP=$pg_ep CRED=$pg_cred row postgres "$1 keys=$2 postgres" --op "$1" --keys "$2" --setup-concurrency 64
  done
  kill "$sq_pid" "$pg_pid"
  wait "$sq_pid" "$pg_pid" 2>/dev/null || true
  trent_pg_stop
}

section_million() {
  # The keys are created with the audit trail off (faster). Each --reuse-keys setup finds the
  # keys with ListKeys and DescribeKey, which also fills the key cache when it is large enough.
  local big=1100000
  start million --no-audit
  row million "1000000, audit off" --op encrypt --keys 1000000 --setup-concurrency 64
  row million "10, audit off" --op encrypt --keys 10 --reuse-keys
  restart million --no-audit --key-cache-records $big
  row million "1000000, audit off, --key-cache-records $big" --op encrypt --keys 1000000 --reuse-keys --setup-concurrency 64
  row million "10, audit off, --key-cache-records $big" --op encrypt --keys 10 --reuse-keys
  restart million --key-cache-records $big
  row million "1000000, audit on, --key-cache-records $big" --op encrypt --keys 1000000 --reuse-keys --setup-concurrency 64
  row million "10, audit on, --key-cache-records $big" --op encrypt --keys 10 --reuse-keys
  restart million
  row million "1000000, audit on" --op encrypt --keys 1000000 --reuse-keys --setup-concurrency 64
  row million "10, audit on" --op encrypt --keys 10 --reuse-keys
  stop
}

section_ideal() {
  local ideal=${TRENT_IDEAL:?set TRENT_IDEAL to a trent binary built with crates/trent-bench/experiments/ideal-audit-writer.patch}
  local log=$OUT/ideal-append.log
  for i in 1 2 3; do
    start main
    row ideal "sqlite (shipped) $i" --op encrypt
    stop
    TRENT=$ideal TRENT_EXP_APPEND=$log start ideal
    row ideal "append+fdatasync $i" --op encrypt
    stop
    rm -f "$log"
    TRENT=$ideal TRENT_EXP_APPEND=$log TRENT_EXP_NOSYNC=1 start ideal
    row ideal "append, no fdatasync $i" --op encrypt
    stop
    rm -f "$log"
    start noaudit --no-audit
    row ideal "no audit $i" --op encrypt
    stop
  done
}

echo "trent: $TRENT ($("$TRENT" --version 2>/dev/null || true)), sections: $SECTIONS" >&2
for section in $SECTIONS; do
  "section_$section"
done
