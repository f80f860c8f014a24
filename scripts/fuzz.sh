#!/usr/bin/env bash
# Runs every property-based fuzz target (`crates/*/tests/fuzz_*.rs`) in
# release mode with many more generated cases than CI's default (1000), and
# prints each target's executions and time.
#
#   scripts/fuzz.sh [CASES] [TARGET…]
#
# CASES defaults to 100000 (LAMBDABOX_FUZZ_CASES for each target); TARGETs
# (`zip`, `sigv4`, …) limit the run to those. A failure is shrunk and its
# seed saved in the crate's tests/proptest-regressions/fuzz_<target>.txt
# (commit it: the next run replays it first). Other proptest settings pass
# through the environment (PROPTEST_MAX_SHRINK_ITERS, PROPTEST_RNG_SEED, …).
set -euo pipefail

cases="${1:-100000}"
shift || true
case "$cases" in
    '' | *[!0-9]*)
        echo "usage: $0 [CASES] [TARGET…]" >&2
        exit 2
        ;;
esac
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# The fuzz tests, as crate and target.
mapfile -t tests < <(find crates -maxdepth 3 -path '*/tests/fuzz_*.rs' | sort)
if [ "${#tests[@]}" -eq 0 ]; then
    echo "no fuzz targets under crates/*/tests/" >&2
    exit 1
fi

summary=()
failed=0
for file in "${tests[@]}"; do
    crate="$(basename "$(dirname "$(dirname "$file")")")"
    test="$(basename "$file" .rs)"
    target="${test#fuzz_}"
    if [ "$#" -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$target"; then
        continue
    fi
    echo "== $crate: $test ($cases cases)"
    log="$(mktemp)"
    if LAMBDABOX_FUZZ_CASES="$cases" cargo test --release -p "$crate" --test "$test" -- --nocapture 2>&1 | tee "$log"; then
        status=ok
    else
        status=FAILED
        failed=1
    fi
    line="$(grep -E "^fuzz $target: " "$log" | tail -n 1 || true)"
    summary+=("${line:-fuzz $target: no result} [$status]")
    rm -f "$log"
done

echo
echo "== summary"
printf '%s\n' "${summary[@]}"
exit "$failed"
