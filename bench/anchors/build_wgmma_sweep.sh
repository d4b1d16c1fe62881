#!/usr/bin/env bash
# Builds the folder bench/anchors/matmul_wgmma_sweep.py runs from on the device: main's mma.sync forward kernel
# (kernels/matmul_bf16.cu, compute_80 PTX, the engine's build) and the wgmma kernel's tile variants (block tile BM x BN x 64,
# S stages), each compiled by nvcc 11.8 for compute_90 and retargeted to PTX ISA 8.0 / sm_90a as build.cake does,
# with the sweep and cuda_driver.py beside them.
#
# Usage: bench/anchors/build_wgmma_sweep.sh OUTDIR    then on the device: python3 OUTDIR/matmul_wgmma_sweep.py OUTDIR
set -euo pipefail

out=${1:?usage: build_wgmma_sweep.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
nvcc=${NVCC:-nvcc}
# Debian's nvcc 11.8 rejects the system's GCC 12 as host compiler; clang-14 works (as in build.cake).
host=()
if "$nvcc" --version | grep -q "release 11\."; then host=(-ccbin clang-14); fi
flags=(-O3 -std=c++17 -lineinfo "-I$root/kernels")

mkdir -p "$out"
"$nvcc" "${host[@]}" -ptx -arch=compute_80 "${flags[@]}" -o "$out/matmul_bf16.ptx" "$root/kernels/matmul_bf16.cu"

# BM:BN:STAGES. 128 x 256 x 4 (the default): the least shared-memory traffic per flop, one block an SM; at 3 stages,
# whether the fourth matters; 128 x 128 x 3 fits two blocks an SM (one's epilogue under the other's main loop);
# 128 x 128 x 6, that tile at one block and deep; 256 x 128 x 4, four warpgroups to a block.
for variant in 128:256:4 128:256:3 128:128:3 128:128:6 256:128:4; do
    IFS=: read -r bm bn stages <<< "$variant"
    name=matmul_bf16_wgmma_bm${bm}_bn${bn}_s${stages}
    "$nvcc" "${host[@]}" -ptx -arch=compute_90 "${flags[@]}" -DWG_BM="$bm" -DWG_BN="$bn" -DWG_STAGES="$stages" \
        -o "$out/$name.sm_90.ptx" "$root/kernels/matmul_bf16_sm90a.cu"
    # build.cake's RetargetToSm90a, for nvcc 11.8's PTX ISA 7.8: wgmma needs ISA 8.0 and sm_90a.
    sed -e 's/^\.version 7\.8$/.version 8.0/' -e 's/^\.target sm_90$/.target sm_90a/' "$out/$name.sm_90.ptx" > "$out/$name.ptx"
    grep -qx '.target sm_90a' "$out/$name.ptx" && grep -qx '.version 8.0' "$out/$name.ptx"
    rm "$out/$name.sm_90.ptx"
done

cp "$here/matmul_wgmma_sweep.py" "$here/cuda_driver.py" "$out/"
ls -l "$out"
