#!/usr/bin/env bash
# One GPU session's worth of checks from the bundle, in one call: every GPU test, PyTorch's kernel peers (where python3
# has torch), every GPU suite in one bench run (one results file; it is rewritten after each suite, so a run cut off by
# a time limit keeps the suites that finished), then PyTorch's training peer (the slowest stage: torch.compile).
# Usage: ./run-gpu-all.sh OUT [--quick] [--peer PATH/torch_baselines.py] [--no-training-peer]
# OUT gets gpu-tests.txt, torch-*.json, bench.txt and results/<device>/<date>.md|json; OUT.tgz holds all of it and is
# rewritten after each stage, for device tools that bring back only a few files or stop a run at its time limit.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 1 ]; then sed -n '2,7p' "$0"; exit 2; fi
out=$(mkdir -p "$1" && cd "$1" && pwd); shift
quick=() peer="" training_peer=1
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=(--quick) ;;
        --peer) peer=$2; shift ;;
        --no-training-peer) training_peer=0 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
# The suites write into the bundle's results/ (a copy of the repository's bench/results), so the run is compared with
# the earlier runs on the device; pack copies this run's new files from there into OUT/results.
started="$out/.started"
touch "$started"
pack() {
    mkdir -p "$out/results"
    (cd "$here/results" && find . -type f -newer "$started" -exec cp --parents {} "$out/results/" \;)
    tar czf "$out.tgz" -C "$(dirname "$out")" "$(basename "$out")"
}
stage() { echo "== $1 ($(date -u +%H:%M:%S))"; }
has_torch() { python3 -c "import torch; assert torch.cuda.is_available()" 2>/dev/null; }

stage tests
"$here/tritter" info > "$out/info.txt" 2>&1
"$here/Tritter.Tests" --filter "TestCategory=Gpu" > "$out/gpu-tests.txt" 2>&1
echo "exit $?" >> "$out/gpu-tests.txt"
tail -6 "$out/gpu-tests.txt"
pack

if [ -n "$peer" ] && has_torch; then
    stage "PyTorch kernel peers"
    python3 "$peer" > "$out/torch_baselines.json" 2> "$out/torch_baselines.err"
    pack
fi

# Every GPU suite is listed here (a test checks it).
suites=(AdamWGpuBenchmarks CrossEntropyGpuBenchmarks DenseMatmulGpuBenchmarks EmbeddingGpuBenchmarks
    KvDecodeAttentionGpuBenchmarks LayerNormGpuBenchmarks SquaredReluGpuBenchmarks TernaryGemmGpuBenchmarks
    TernaryGemvGpuBenchmarks TrainingAttentionGpuBenchmarks
    DecodeGpuBenchmarks DecodeLongContextGpuBenchmarks DecodeStreamingGpuBenchmarks TrainingStepGpuBenchmarks)
stage suites
mapfile -t filter < <(for suite in "${suites[@]}"; do printf '*.%s.*\n' "$suite"; done)
"$here/Tritter.Bench" --results "$here/results" "${quick[@]}" --filter "${filter[@]}" > "$out/bench.txt" 2>&1
echo "exit $?" >> "$out/bench.txt"
pack

if [ "$training_peer" = 1 ] && has_torch; then
    stage "PyTorch training peer"
    python3 "$here/anchors/torch_tritter_train.py" --preset 1B --batch 1 --seq 2048 --steps 5 > "$out/torch-train-1B.json" 2> "$out/torch-train-1B.err"
    pack
fi
stage done
