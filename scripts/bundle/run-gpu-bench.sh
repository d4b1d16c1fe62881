#!/usr/bin/env bash
# Runs Tritter's benchmark suites from the self-contained bundle (in-process toolchain, no SDK needed).
# Usage: ./run-gpu-bench.sh [BenchmarkDotNet arguments, e.g. --filter '*SquaredRelu*'] [--quick] [--results DIR]
# Results go to results/<device>/ beside this script unless --results is given: the bundle carries the repository's
# bench/results there, so each run is compared with the previous run on the same device. Copy the new
# results/<device>/<date>.md and .json back into bench/results/<device>/ to keep them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
for arg in "$@"; do
    if [ "$arg" = "--results" ]; then exec "$here/Tritter.Bench" "$@"; fi
done
exec "$here/Tritter.Bench" --results "$here/results" "$@"
