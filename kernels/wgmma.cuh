// The machinery the Hopper-only products (*_sm90a.cu) share: warpgroup MMA (wgmma.mma_async) on operands that a
// cp.async ring stages in shared memory in wgmma's 128-byte-swizzled canonical layouts, read through matrix
// descriptors. Everything Hopper-specific is inline PTX (see matmul_bf16_sm90a.cu on the build).
//
// Block tile WG_BM x WG_BN x (128 bytes of k: 64 bf16, 128 int8) (default 128 x 256), computed by WG_BM / 64 warpgroups of 64 x WG_BN, each a chain
// of wgmma m64nWG_BNk16 (bf16) or k32 (int8), 4 per k tile, into 64 x WG_BN / 128 = 128 accumulators a thread at WG_BN = 256. 256 is
// wgmma's widest n: each instruction reads its 64 x 16 A slice and N x 16 B slice from shared memory, so the wider N
// the fewer bytes per flop, and shared-memory bandwidth, not issue, is what wgmma at full rate runs short of. The
// epilogue stores straight from the accumulators (matmul_store.cuh), overlapped with a main loop only where two blocks
// share an SM (WG_MIN_BLOCKS). Every thread also
// copies: the tiles come through a WG_STAGES-deep cp.async ring (4 by default, 48 KiB stages, 193 KiB with the 1 KiB
// of alignment slack, one block an SM), a tile copied WG_STAGES - 2 k tiles ahead of its product. No TMA or producer
// warpgroup: cp.async needs no host-side tensor map, and at 12 16-byte copies a thread per ~1,000-clock k tile the
// copies cost the warpgroups little issue time.
//
// Shared layout (the canonical layouts all of the pieces below agree on, checked by wgmma_emulation.py): a tile is 64 k
// by R (M or N) elements in 128-byte swizzle atoms of 8 lines x 128 bytes, 16-byte chunk c of line l at
// l * 128 + ((c ^ (l % 8)) << 4), its base 1024-byte aligned: the 128-byte swizzle Swizzle<3,4,3> (address bits 4-6
// XORed with bits 7-9; PTX ISA 9.7.15.5.1.2, "Shared Memory Matrix Layout"), so that cp.async writes a line's 8 chunks
// conflict-free.
//   K-major (canonical ((8,m),(T,2k)):((8T,SBO),(1,T)), T = 8 bf16 or 16 int8): line r is row r's 64 k (128 int8). SBO = 1024 (8 rows), LBO
//   unused (1). The k16 step j starts 32 j bytes into the lines: the hardware swizzles the address it computes, so the
//   start address moves and the pattern stays.
//   MN-major (canonical ((T,8,m),(8,k)):((1,T,LBO),(8T,SBO))): R / 64 atoms of 64 lines, line k holding elements
//   64 a .. 64 a + 63 of k row k in atom a. SBO = 1024 (the next 8 k), LBO = 8192 (the next 64 elements). The k16 step j
//   starts 2048 j bytes in: whole 8-line groups.
// Either way warpgroup w's 64 rows of A start 8192 w bytes into the A tile, and a tile is R * 128 bytes.
//
// (PTX ISA section numbers as in its 9.x documentation; the titles quoted stay put across versions.)
//
// Pipeline of k tile t, every thread: wait for its copies of t, fence.proxy.async (cp.async writes through the generic
// proxy, wgmma reads through the async proxy: PTX ISA 9.7.15.4), barrier; issue t's 4 wgmma and commit them; copy tile
// t + WG_STAGES - 2 into the stage tile t - 2 held, whose wgmma every warpgroup waited for before that barrier; wait
// until only t's wgmma are pending. So one group of wgmma is always queued behind the running one.
#pragma once
#include <type_traits>
#include "async_copy.cuh"

#ifndef WG_BM
#define WG_BM 128
#endif
#ifndef WG_BN
#define WG_BN 256
#endif
#ifndef WG_STAGES
#define WG_STAGES 4
#endif
#ifndef WG_GROUP_M
#define WG_GROUP_M 8
#endif
#define WG_THREADS (WG_BM / 64 * 128)
#define WG_ROW_BYTES 128
#define WG_A_BYTES (WG_BM * WG_ROW_BYTES)
#define WG_STAGE_BYTES ((WG_BM + WG_BN) * WG_ROW_BYTES)
// The dynamic shared window is only sure to be 16-byte aligned; the swizzle pattern repeats from 1024-byte boundaries.
#define WG_SHARED_BYTES (WG_STAGES * WG_STAGE_BYTES + 1024)
// Two blocks an SM where their shared memory fits in an H100 SM's 228 KiB (with 1 KiB the system reserves per block),
// so that one block's epilogue overlaps the other's main loop.
#define WG_MIN_BLOCKS (WG_SHARED_BYTES <= 113 * 1024 ? 2 : 1)

static_assert(WG_BM % 64 == 0 && WG_BM <= 256, "one to four m64 warpgroups");
static_assert(WG_BN == 128 || WG_BN == 256, "the wgmma shapes the kernels write out");
static_assert(WG_STAGES >= 3, "a stage being read, one read by the group still running, one being filled");
static_assert(WG_SHARED_BYTES <= 227 * 1024, "an H100 block's shared memory");

namespace {

__device__ __forceinline__ uint32_t swizzled_offset(int row, int chunk) { return row * WG_ROW_BYTES + ((chunk ^ (row & 7)) << 4); }

// k elements of T in one tile line of 128 bytes: 64 bf16, 128 int8.
template <typename T>
constexpr int tile_k = WG_ROW_BYTES / (int)sizeof(T);

// Copies rows [row0, row0 + Rows) x k tile t of a K-major operand into a swizzled tile. Thread i copies chunk i % 8 of
// lines i / 8, i / 8 + lines, ...: 8 neighbouring threads fill one 128-byte row, which is one coalesced read and,
// swizzled, 8 distinct bank groups. Chunks past `rows` or past ld are zero-filled, never read.
template <typename T, int Rows>
struct TileCopyK
{
    static constexpr int chunk_elements = 16 / (int)sizeof(T);
    static constexpr int lines = WG_THREADS / 8;
    static constexpr int copies = Rows / lines;
    static_assert(Rows % lines == 0, "every thread copies whole lines");

    const T* source;
    int ld, line, chunk;
    unsigned valid_rows;  // bit i: copy i's row is inside the matrix

    __device__ __forceinline__ TileCopyK(const T* __restrict__ matrix, int ld_, int rows, int /* k */, int row0)
        : ld(ld_), line(threadIdx.x / 8), chunk(threadIdx.x % 8), valid_rows(0)
    {
        source = matrix + (int64_t)(row0 + line) * ld + chunk * chunk_elements;
#pragma unroll
        for (int i = 0; i < copies; i++)
            valid_rows |= row0 + line + i * lines < rows ? 1u << i : 0u;
    }

    __device__ __forceinline__ void copy(uint32_t tile, int t) const
    {
        const bool inside = chunk * chunk_elements + t * tile_k<T> < ld;
#pragma unroll
        for (int i = 0; i < copies; i++)
        {
            const bool valid = ((valid_rows >> i) & 1u) && inside;
            const int64_t offset = (int64_t)i * lines * ld + t * tile_k<T>;
            copy16(tile + swizzled_offset(line + i * lines, chunk), valid ? source + offset : source, valid);
        }
    }
};

// Copies k rows [64 t, 64 t + 64) x elements [column0, column0 + Columns) of an MN-major bf16 operand (k rows of ld)
// into a swizzled tile. Thread i copies chunk i % (Columns / 8) of k lines i / (Columns / 8), + lines, ...: a source
// row's chunks are neighbouring threads' (one coalesced read), and each 8 of them one swizzled 128-byte line. Chunks
// past k or past ld are zero-filled, never read. (wgmma reads MN-major operands of 16-bit types only.)
template <typename T, int Columns>
struct TileCopyMN
{
    static_assert(sizeof(T) == 2, "MN-major operands are bf16 or fp16");
    static constexpr int k_lines = tile_k<T>;
    static constexpr int row_chunks = Columns / 8;
    static constexpr int lines = WG_THREADS / row_chunks;
    static constexpr int copies = k_lines / lines;
    static_assert(WG_THREADS % row_chunks == 0 && k_lines % lines == 0, "every thread copies whole k lines");

    const T* source;
    int ld, k, line;
    uint32_t offset;  // of the thread's chunk in a tile's first line
    bool inside;      // the chunk is inside the matrix's rows

    __device__ __forceinline__ TileCopyMN(const T* __restrict__ matrix, int ld_, int /* columns */, int k_, int column0)
        : ld(ld_), k(k_), line(threadIdx.x / row_chunks)
    {
        const int chunk = threadIdx.x % row_chunks;
        source = matrix + (int64_t)line * ld + column0 + chunk * 8;
        offset = (chunk / 8) * (k_lines * WG_ROW_BYTES) + ((chunk % 8) << 4);
        inside = column0 + chunk * 8 < ld;
    }

    __device__ __forceinline__ void copy(uint32_t tile, int t) const
    {
#pragma unroll
        for (int i = 0; i < copies; i++)
        {
            const int l = line + i * lines;
            const bool valid = inside && t * k_lines + l < k;
            const int64_t rows_in = (int64_t)(t * k_lines + i * lines) * ld;
            copy16(tile + l * WG_ROW_BYTES + (offset ^ ((l & 7) << 4)), valid ? source + rows_in : source, valid);
        }
    }
};

template <typename T, bool MNMajor, int Rows>
using TileCopy = std::conditional_t<MNMajor, TileCopyMN<T, Rows>, TileCopyK<T, Rows>>;

// Matrix descriptor of a tile starting at shared address `address` (PTX ISA 9.7.15.5.1.2.2, "Matrix Descriptor Format"):
// bits 0-13 address >> 4, 16-29 LBO >> 4, 32-45 SBO >> 4, 49-51 base offset (0: the tiles start on 1024-byte
// boundaries), 62-63 swizzle mode (1: 128 bytes); LBO and SBO as in the layout above. Moving the start address by b
// bytes adds b >> 4 to bits 0-13, which never carry: shared addresses are below 2^18.
template <bool MNMajor>
__device__ __forceinline__ uint64_t descriptor(uint32_t address)
{
    constexpr uint64_t lbo = MNMajor ? 64 * WG_ROW_BYTES : 16;
    return (uint64_t)((address & 0x3FFFF) >> 4) | (lbo >> 4) << 16 | (uint64_t)(1024 >> 4) << 32 | (uint64_t)1 << 62;
}

// Bytes from a tile's start to its step j (of 4): k16 of bf16 or k32 of int8 K-major, 32 bytes along the lines; k16
// of bf16 MN-major, 16 lines.
template <bool MNMajor>
__device__ __forceinline__ uint32_t step_bytes(int j) { return MNMajor ? j * 16 * WG_ROW_BYTES : j * 32; }

// Accumulator (j, v) of a warp is register 4 j + v of wgmma m64nNk16's D (PTX ISA 9.7.15.5.1.1.1, Figure "WGMMA
// .m64nNk16 register fragment layout for accumulator matrix D"): warp w of the warpgroup holds rows 16 w..16 w + 15,
// lane (g = lane / 4, t = lane % 4) register 4 j + 2 h + e holds (row 16 w + g + 8 h, column 8 j + 2 t + e). That is the
// mma.sync m16n8 C layout for each 8 columns, so matmul_store.cuh's store_accumulators<1, N / 8> stores it. The
// m64nNk32 int8 D (s32) is laid out the same. C is the operand constraint: "+f" for f32, "+r" for s32.
#define WG_D(C, i) C(d[(i) / 4][(i) % 4])
#define WG_D8(C, i) WG_D(C, i), WG_D(C, i + 1), WG_D(C, i + 2), WG_D(C, i + 3), WG_D(C, i + 4), WG_D(C, i + 5), WG_D(C, i + 6), WG_D(C, i + 7)
#define WG_D64(C, i) WG_D8(C, i), WG_D8(C, i + 8), WG_D8(C, i + 16), WG_D8(C, i + 24), WG_D8(C, i + 32), WG_D8(C, i + 40), WG_D8(C, i + 48), WG_D8(C, i + 56)
#define WG_REGS_64                                                                        \
    "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "              \
    "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "    \
    "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "    \
    "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"
#define WG_REGS_128                                                                                   \
    WG_REGS_64 ", "                                                                                   \
    "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, "                \
    "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, "                \
    "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, "    \
    "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127"

// Orders the warpgroup's register writes (the zeroed accumulators) before the wgmma that read them.
__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }

// Waits until at most Pending committed groups of this warpgroup's wgmma are still running.
template <int Pending>
__device__ __forceinline__ void wgmma_wait() { asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(Pending) : "memory"); }

// Makes this thread's completed cp.async writes to shared memory visible to the async proxy that wgmma reads through.
__device__ __forceinline__ void fence_proxy_async() { asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"); }

// The compiler sees each wgmma write the accumulators when it is issued; this redefinition, after the last
// wgmma_wait, keeps it from reading them (the epilogue's bias add) before that wait.
template <typename V, int J>
__device__ __forceinline__ void fence_accumulators(V (&d)[J][4])
{
#pragma unroll
    for (int j = 0; j < J; j++)
#pragma unroll
        for (int v = 0; v < 4; v++)
        {
            if constexpr (std::is_same_v<V, float>)
                asm volatile("" : "+f"(d[j][v])::"memory");
            else
                asm volatile("" : "+r"(d[j][v])::"memory");
        }
}

// The k loop of one block's output tile (block_m, block_n) of C[m, n] = A B over k: the WG_STAGES-deep ring of tiles
// and the wgmma of each (see the pipeline above); mma(acc, a, b) issues one step's wgmma on the descriptors a and b.
// Returns with every wgmma retired and acc fenced, for the epilogue. The caller sets acc before (zeros, or C).
template <typename T, bool AMN, bool BMN, typename Acc, typename Mma>
__device__ __forceinline__ void wgmma_main_loop(const T* __restrict__ a, int lda, const T* __restrict__ b, int ldb, int m, int n, int k,
    int block_m, int block_n, Acc& acc, Mma mma)
{
    extern __shared__ __align__(16) uint8_t shared[];
    const uint32_t base = (shared_address(shared) + 1023) & ~1023u;
    const int warpgroup = threadIdx.x / 128;
    const int k_tiles = (k + tile_k<T> - 1) / tile_k<T>;
    const TileCopy<T, AMN, WG_BM> copy_a(a, lda, m, k, block_m);
    const TileCopy<T, BMN, WG_BN> copy_b(b, ldb, n, k, block_n);
    auto load_stage = [&](int tile, int stage) {
        if (tile < k_tiles)
        {
            const uint32_t at = base + stage * WG_STAGE_BYTES;
            copy_a.copy(at, tile);
            copy_b.copy(at + WG_A_BYTES, tile);
        }
        commit_copies();
    };
    auto next_stage = [](int stage) { return stage == WG_STAGES - 1 ? 0 : stage + 1; };
    // Warpgroup w multiplies rows [64 w, 64 w + 64) of the A tile by the whole B tile.
    const uint64_t a_descriptor = descriptor<AMN>(base + warpgroup * 64 * WG_ROW_BYTES), b_descriptor = descriptor<BMN>(base + WG_A_BYTES);

#pragma unroll
    for (int s = 0; s < WG_STAGES - 2; s++)
        load_stage(s, s);
    int read_stage = 0, write_stage = WG_STAGES - 2;
    for (int kt = 0; kt < k_tiles; kt++)
    {
        // Groups committed so far: tiles 0..kt + WG_STAGES - 3; tile kt has landed once at most WG_STAGES - 3 pend.
        wait_copies<WG_STAGES - 3>();
        fence_proxy_async();
        __syncthreads();
        wgmma_fence();
#pragma unroll
        for (int step = 0; step < 4; step++)
        {
            const uint32_t stage = read_stage * WG_STAGE_BYTES;
            mma(acc, a_descriptor + ((stage + step_bytes<AMN>(step)) >> 4), b_descriptor + ((stage + step_bytes<BMN>(step)) >> 4));
        }
        wgmma_commit();
        load_stage(kt + WG_STAGES - 2, write_stage);
        wgmma_wait<1>();
        read_stage = next_stage(read_stage);
        write_stage = next_stage(write_stage);
    }
    wgmma_wait<0>();
    fence_accumulators(acc);
}

}  // namespace
