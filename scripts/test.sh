#!/usr/bin/env bash
# Runs Trent's whole test suite: unit, property, conformance and integration tests, including
# the boto3 and aws CLI round trips. Installs the Python clients the tests drive if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c "import boto3, botocore, cryptography" >/dev/null 2>&1 || ! command -v aws >/dev/null 2>&1; then
  echo "installing boto3, awscli and cryptography for the interoperability tests" >&2
  python3 -m pip install --quiet --disable-pip-version-check boto3 awscli "cryptography>=48"
fi

# The generated wire layer must match botocore's model.
python3 tools/gen_wire.py --check

cargo test --workspace --all-targets "$@"
