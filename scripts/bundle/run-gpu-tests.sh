#!/usr/bin/env bash
# Runs Tritter's GPU tests from the self-contained bundle on a machine that has only the NVIDIA driver.
# Usage: ./run-gpu-tests.sh [extra test-program arguments]
# Exit code 8 from the test program means no test ran (e.g. a filter that matched nothing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/tritter" info
exec "$here/Tritter.Tests" --filter "TestCategory=Gpu" "$@"
