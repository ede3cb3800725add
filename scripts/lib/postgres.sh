# Sourced by scripts/test.sh and .ci/run: a throwaway PostgreSQL cluster for the tests of the
# PostgreSQL backend, on 127.0.0.1 and a free port, in a temporary directory.
#
#   trent_pg_available   true if PostgreSQL's server binaries (initdb, pg_ctl) are installed
#   trent_pg_start       starts a cluster and exports TRENT_TEST_POSTGRES_URL
#   trent_pg_stop        stops it and removes its directory (safe to call twice)
#   trent_pg_traps       stops it when the script exits, or is interrupted or terminated
#
# initdb refuses to run as root, so as root the cluster runs as the `postgres` user that
# Debian's package creates. Trust authentication is fine: it listens on loopback only.

trent_pg_bindir() {
  local initdb
  initdb=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$initdb" ]; then
    initdb=$(command -v initdb 2>/dev/null || true)
  fi
  [ -n "$initdb" ] && dirname "$initdb"
}

trent_pg_available() {
  [ -n "$(trent_pg_bindir)" ]
}

trent_pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

trent_pg_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

trent_pg_start() {
  local bindir dir port attempt
  bindir=$(trent_pg_bindir) || { echo "PostgreSQL server binaries not found" >&2; return 1; }
  dir=$(mktemp -d "${TMPDIR:-/tmp}/trent-pg.XXXXXX")
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$dir"
  fi
  TRENT_PG_DIR=$dir
  TRENT_PG_BINDIR=$bindir
  if ! trent_pg_as_owner "$bindir/initdb" -D "$dir/data" -U postgres -A trust --no-sync \
      -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    return 1
  fi
  # The port is free when chosen but could be taken before the server binds it: retry.
  for attempt in 1 2 3; do
    port=$(trent_pg_free_port)
    if trent_pg_as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null 2>&1; then
      export TRENT_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
      echo "started a throwaway PostgreSQL cluster: $TRENT_TEST_POSTGRES_URL" >&2
      return 0
    fi
  done
  cat "$dir/server.log" >&2 || true
  return 1
}

trent_pg_stop() {
  if [ -n "${TRENT_PG_DIR:-}" ]; then
    if [ -f "$TRENT_PG_DIR/data/postmaster.pid" ]; then
      trent_pg_as_owner "$TRENT_PG_BINDIR/pg_ctl" -D "$TRENT_PG_DIR/data" -m fast -w stop \
        >/dev/null 2>&1 || true
    fi
    rm -rf "$TRENT_PG_DIR"
    TRENT_PG_DIR=
  fi
}

trent_pg_traps() {
  trap trent_pg_stop EXIT
  trap 'trent_pg_stop; exit 130' INT
  trap 'trent_pg_stop; exit 143' TERM
}
