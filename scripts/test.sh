#!/usr/bin/env bash
# Runs Trent's whole test suite: unit, property, conformance and integration tests, including
# the boto3 and aws CLI round trips, and the PostgreSQL backend's tests when PostgreSQL is
# installed. Installs the Python clients the tests drive if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# botocore is pinned: the generated wire layer is checked against its KMS model.
if ! python3 -c "import boto3, botocore, cryptography; assert botocore.__version__ == '1.43.11'" >/dev/null 2>&1 \
    || ! command -v aws >/dev/null 2>&1; then
  echo "installing boto3, awscli and cryptography for the interoperability tests" >&2
  python3 -m pip install --quiet --disable-pip-version-check \
    botocore==1.43.11 boto3==1.43.11 awscli==1.45.11 cryptography==48.0.0
fi

# The PostgreSQL backend's tests (storage conformance, two-node end-to-end) run against
# TRENT_TEST_POSTGRES_URL. Unless it is set already, start a throwaway cluster if PostgreSQL is
# installed; without one those tests print "skipped" (and fail under CI=true).
. scripts/lib/postgres.sh
if [ -z "${TRENT_TEST_POSTGRES_URL:-}" ]; then
  if trent_pg_available; then
    trent_pg_traps
    trent_pg_start
  else
    echo "PostgreSQL is not installed: the PostgreSQL backend tests will be skipped" >&2
  fi
fi

# The generated wire layer must match botocore's model.
python3 tools/gen_wire.py --check

cargo test --workspace --all-targets "$@"
