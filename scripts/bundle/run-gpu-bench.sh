#!/usr/bin/env bash
# Runs Tritter's GPU benchmark suites from the self-contained bundle (in-process toolchain, no SDK needed).
# Usage: ./run-gpu-bench.sh [BenchmarkDotNet arguments, e.g. --filter '*SquaredRelu*']
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/Tritter.Bench" "$@"
