#!/usr/bin/env bash
# One GPU session's worth of checks from the bundle, in one call: every GPU test, the PyTorch peers (where python3 has
# torch), then every GPU suite (kernel suites first, end-to-end suites second, so a cut-off run keeps the first).
# Usage: ./run-gpu-all.sh OUT [--quick] [--peer PATH/torch_baselines.py]
# OUT gets gpu-tests.txt, torch-*.json, bench-*.txt and results/<device>/<date>.md|json; OUT.tgz holds all of it and is
# rewritten after each stage, for device tools that bring back only a few files or stop a run at its time limit.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 1 ]; then sed -n '2,7p' "$0"; exit 2; fi
out=$(mkdir -p "$1" && cd "$1" && pwd); shift
quick=() peer=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=(--quick) ;;
        --peer) peer=$2; shift ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
pack() { tar czf "$out.tgz" -C "$(dirname "$out")" "$(basename "$out")"; }
stage() { echo "== $1 ($(date -u +%H:%M:%S))"; }

stage tests
"$here/tritter" info > "$out/info.txt" 2>&1
"$here/Tritter.Tests" --filter "TestCategory=Gpu" > "$out/gpu-tests.txt" 2>&1
echo "exit $?" >> "$out/gpu-tests.txt"
tail -6 "$out/gpu-tests.txt"
pack

if python3 -c "import torch; assert torch.cuda.is_available()" 2>/dev/null; then
    stage "PyTorch peers"
    [ -n "$peer" ] && python3 "$peer" > "$out/torch_baselines.json" 2> "$out/torch_baselines.err"
    python3 "$here/anchors/torch_tritter_train.py" --preset 1B --batch 1 --seq 2048 --steps 5 > "$out/torch-train-1B.json" 2> "$out/torch-train-1B.err"
    pack
fi

# Every GPU suite is in one of these two lists (a test checks it).
kernel_suites=(AdamWGpuBenchmarks CrossEntropyGpuBenchmarks DenseMatmulGpuBenchmarks EmbeddingGpuBenchmarks
    KvDecodeAttentionGpuBenchmarks LayerNormGpuBenchmarks SquaredReluGpuBenchmarks TernaryGemmGpuBenchmarks
    TernaryGemvGpuBenchmarks TrainingAttentionGpuBenchmarks)
end_to_end_suites=(TrainingStepGpuBenchmarks DecodeGpuBenchmarks DecodeStreamingGpuBenchmarks DecodeLongContextGpuBenchmarks)
globs() { for suite in "$@"; do printf '*.%s.*\n' "$suite"; done; }

stage "kernel suites"
mapfile -t filter < <(globs "${kernel_suites[@]}")
"$here/Tritter.Bench" --results "$out/results" "${quick[@]}" --filter "${filter[@]}" > "$out/bench-kernels.txt" 2>&1
echo "exit $?" >> "$out/bench-kernels.txt"
pack
stage "end-to-end suites"
mapfile -t filter < <(globs "${end_to_end_suites[@]}")
"$here/Tritter.Bench" --results "$out/results" "${quick[@]}" --filter "${filter[@]}" > "$out/bench-e2e.txt" 2>&1
echo "exit $?" >> "$out/bench-e2e.txt"
pack
stage done
