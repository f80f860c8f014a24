#!/usr/bin/env bash
# The project's test command: sets up the Python test environment, builds the
# release binary, runs the Rust tests (in release, sharing the build with the
# binary) and then the end-to-end suite against the real binary.
#
# Exits non-zero if anything failed. Both test runners run even if the first
# fails, so one run shows every failure.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup-test-env.sh || { echo "test.sh: test environment setup failed" >&2; exit 1; }

cargo build --release || { echo "test.sh: cargo build --release failed" >&2; exit 1; }

# Where cargo put the binary: honours CARGO_TARGET_DIR and .cargo/config.
TARGET_DIR="$(cargo metadata --no-deps --format-version 1 |
  .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')" || {
  echo "test.sh: could not ask cargo for its target directory" >&2
  exit 1
}
export LAMBDABOX_BIN="$TARGET_DIR/release/lambdabox"
export LAMBDABOX_TEST_PYTHON="$ROOT/.venv/bin/python"

status=0

# The AWS SDKs the runtimes include, fetched once from PyPI and npm into the
# shared SDK dir (a set-up step like the venv's): no test server downloads.
echo "==> lambdabox install-sdks"
"$LAMBDABOX_BIN" install-sdks || status=1

echo "==> cargo test --workspace --release"
cargo test --workspace --release || status=1

echo "==> runtime interface clients' unit tests (Python, Node.js, Java)"
/usr/bin/python3 -m unittest discover -s runtimes/python/tests || status=1
node --test runtimes/nodejs/test/ || status=1
bash runtimes/java/test.sh || status=1

echo "==> pytest tests/conformance (generated from botocore's models)"
(cd tests/conformance && ../../.venv/bin/pytest -q) || status=1

echo "==> pytest tests/e2e (LAMBDABOX_BIN=$LAMBDABOX_BIN)"
.venv/bin/pytest tests/e2e -q -p no:cacheprovider || status=1

if [ "$status" -ne 0 ]; then
  echo "test.sh: FAILED" >&2
else
  echo "test.sh: all tests passed"
fi
exit "$status"
