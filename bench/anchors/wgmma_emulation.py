"""Host-side emulation of kernels/matmul_bf16_sm90a.cu's index math, run before the kernel ever meets a GPU (as
matmul_bf16.cu's fragments were checked): every block of a small ragged GEMM is played through the kernel's own
arithmetic, thread by thread, on a model of shared memory, and the result must equal the exact product.

Two kinds of code below, kept apart on purpose:
  * mirrors of the kernel (swizzled_offset, TileCopyK, TileCopyMN, descriptor, step_bytes, block_tile, the main loop's
    stage and group arithmetic, and matmul_store.cuh's load_accumulators / store_accumulators): the same expressions as
    the .cu;
  * models of the hardware, written from the PTX ISA and not from the kernel:
      - wgmma_operand: how wgmma reads a K-major or (imm-trans 1) MN-major operand through a matrix descriptor with
        128-byte swizzling (PTX ISA 9.7.15.5.1.2 "Shared Memory Matrix Layout": canonical layouts Swizzle<3,4,3> o
        ((8,m),(T,2k)):((8T,SBO),(1,T)) K-major and Swizzle<3,4,3> o ((T,8,m),(8,k)):((1,T,LBO),(8T,SBO)) MN-major,
        T = 8 for bf16, and 9.7.15.5.1.2.2 "Matrix Descriptor Format" for the bit fields);
      - accumulator_position: which (row, column) of D each of a thread's m64nNk16 fp32 registers holds (PTX ISA
        9.7.15.5.1.1.1, figure "WGMMA .m64nNk16 register fragment layout for accumulator matrix D");
      - the asynchrony: a cp.async lands somewhere between its issue and the cp.async.wait_group that retires its group,
        a wgmma reads shared memory somewhere between its issue and the wgmma.wait_group that retires its group (PTX ISA
        "cp.async.wait_group" and "wgmma.wait_group"). Each block runs twice: copies landing at issue
        while wgmma read at retirement (a copy that overwrites a stage still being read corrupts the product), and
        copies landing at retirement while wgmma read at issue (a read of a stage not yet landed sees stale data).

Section numbers are those of the PTX ISA 9.x documentation (they shift between versions; the titles do not).
Operands are small integers, so every product and sum is exact in float32 and float64 alike, and the check is equality.
Pure Python (no numpy on the development machines); a few minutes for all variants.

Usage: python3 wgmma_emulation.py
"""
import operator
import random

ROW_BYTES = 128  # a tile row: 64 bf16 of k
BK = 64


class Variant:
    """The kernel's compile-time constants for -DWG_BM, -DWG_BN, -DWG_STAGES (WG_GROUP_M stays 8)."""

    def __init__(self, bm, bn, stages, group_m=8):
        self.bm, self.bn, self.stages, self.group_m = bm, bn, stages, group_m
        self.threads = bm // 64 * 128
        self.a_bytes = bm * ROW_BYTES
        self.stage_bytes = (bm + bn) * ROW_BYTES
        self.shared_bytes = stages * self.stage_bytes + 1024

    def __str__(self):
        return f"{self.bm}x{self.bn}x{BK}, {self.stages} stages"


# ---------------------------------------------------------------- mirrors of the kernel

def swizzled_offset(row, chunk):
    return row * ROW_BYTES + ((chunk ^ (row & 7)) << 4)


class TileCopyK:
    """TileCopyK<Rows> of one thread: copy(tile, t) lists its cp.async as (shared address, source element or None)."""

    def __init__(self, v, rows_in_tile, thread, ld, rows, k, row0, esize=2):
        self.tile_k, self.chunk_elements = ROW_BYTES // esize, 16 // esize
        self.lines = v.threads // 8
        assert rows_in_tile % self.lines == 0
        self.copies = rows_in_tile // self.lines
        self.ld, self.line, self.chunk = ld, thread // 8, thread % 8
        self.source = (row0 + self.line) * ld + self.chunk * self.chunk_elements  # element index into the operand
        self.valid_rows = 0
        for i in range(self.copies):
            self.valid_rows |= (1 << i) if row0 + self.line + i * self.lines < rows else 0

    def copy(self, tile, t):
        inside = self.chunk * self.chunk_elements + t * self.tile_k < self.ld
        out = []
        for i in range(self.copies):
            valid = ((self.valid_rows >> i) & 1) == 1 and inside
            offset = i * self.lines * self.ld + t * self.tile_k
            out.append((tile + swizzled_offset(self.line + i * self.lines, self.chunk), self.source + offset if valid else None))
        return out


class TileCopyMN:
    """TileCopyMN<Columns> of one thread, as TileCopyK."""

    def __init__(self, v, columns_in_tile, thread, ld, columns, k, column0, esize=2):
        assert esize == 2, "MN-major operands are 16-bit"
        self.row_chunks = columns_in_tile // 8
        self.lines = v.threads // self.row_chunks
        assert v.threads % self.row_chunks == 0 and BK % self.lines == 0
        self.copies = BK // self.lines
        self.ld, self.k, self.line = ld, k, thread // self.row_chunks
        chunk = thread % self.row_chunks
        self.source = self.line * ld + column0 + chunk * 8
        self.offset = (chunk // 8) * (BK * ROW_BYTES) + ((chunk % 8) << 4)
        self.inside = column0 + chunk * 8 < ld

    def copy(self, tile, t):
        out = []
        for i in range(self.copies):
            line = self.line + i * self.lines
            valid = self.inside and t * BK + line < self.k
            rows_in = (t * BK + i * self.lines) * self.ld
            out.append((tile + line * ROW_BYTES + (self.offset ^ ((line & 7) << 4)), self.source + rows_in if valid else None))
        return out


def descriptor(address, mn_major):
    lbo = BK * ROW_BYTES if mn_major else 16
    return ((address & 0x3FFFF) >> 4) | (lbo >> 4) << 16 | (1024 >> 4) << 32 | 1 << 62


def step_bytes(mn_major, j):
    return j * 16 * ROW_BYTES if mn_major else j * 32


def block_tile(v, m, grid_x, block_x, block_y):
    tiles_m = (m + v.bm - 1) // v.bm
    block_id = block_y * grid_x + block_x
    group = block_id // (v.group_m * grid_x)
    first = group * v.group_m
    height = min(tiles_m - first, v.group_m)
    within = block_id - group * v.group_m * grid_x
    return (first + within % height) * v.bm, (within // height) * v.bn


def load_accumulators(c, m, n, row0, column0, lane, tiles):
    """matmul_store.cuh's load_accumulators<1, NTiles> for one lane: acc[j][v], zero outside C."""
    g, t = lane >> 2, lane & 3
    acc = [[0] * 4 for _ in range(tiles)]
    for h in range(2):
        row = row0 + g + 8 * h
        if row >= m:
            continue
        for j in range(tiles):
            column = column0 + j * 8 + 2 * t
            if column < n:
                acc[j][h * 2] = c[row * n + column]
                if column + 1 < n:
                    acc[j][h * 2 + 1] = c[row * n + column + 1]
    return acc


def store_accumulators(acc, c, bias, m, n, row0, column0, lane):
    """matmul_store.cuh's store_accumulators<1, NTiles> for one lane; acc[j][v] as the kernel's acc[0][j][v]."""
    g, t = lane >> 2, lane & 3
    for h in range(2):
        row = row0 + g + 8 * h
        if row >= m:
            continue
        for j in range(len(acc)):
            column = column0 + j * 8 + 2 * t
            if column < n:
                c[row * n + column] = acc[j][h * 2] + (bias[column] if bias is not None else 0)
                if column + 1 < n:
                    c[row * n + column + 1] = acc[j][h * 2 + 1] + (bias[column + 1] if bias is not None else 0)


# ---------------------------------------------------------------- models of the hardware (PTX ISA)

def swizzle_128b(address):
    """Swizzle<3,4,3> on a byte address: bits 4-6 (the 16-byte chunk) XOR bits 7-9 (the 128-byte row mod 8)."""
    return address ^ ((address & 0x380) >> 3)


def wgmma_operand(shared, desc, rows, mn_major, esize=2):
    """The rows x (32 bytes of k) operand wgmma reads through `desc` (k16 of bf16, k32 of int8), as rows of k, from byte
    offsets off the start address then swizzled as absolute addresses; T = 16 / esize elements fill 16 bytes. K-major:
    element (r, k) at canonical element offset (r % 8) 8T + (r / 8) SBO / esize + (k % T) + (k / T) T, i.e. bytes
    (r % 8) 128 + (r / 8) SBO + (k / T) 16 + (k % T) esize. MN-major (bf16 only): at (r % 8) + ((r / 8) % 8) T +
    (r / 64) LBO / 2 + (k % 8) 8T + (k / 8) SBO / 2, i.e. bytes (r % 8) 2 + ((r / 8) % 8) 16 + (r / 64) LBO +
    (k % 8) 128 + (k / 8) SBO."""
    t = 16 // esize
    start = (desc & 0x3FFF) << 4
    lbo, sbo = ((desc >> 16) & 0x3FFF) << 4, ((desc >> 32) & 0x3FFF) << 4
    base_offset, mode = (desc >> 49) & 7, desc >> 62
    assert mode == 1 and base_offset == 0, (mode, base_offset)  # 128-byte swizzle
    assert mn_major or lbo == 16, lbo  # K-major swizzled: LBO "assumed 1"
    assert desc & ~(0x3FFF | 0x3FFF << 16 | 0x3FFF << 32 | 7 << 49 | 3 << 62) == 0, "reserved bits set"
    out = []
    for r in range(rows):
        line = []
        for k in range(32 // esize):
            if mn_major:
                byte = start + (r % 8) * 2 + ((r // 8) % 8) * 16 + (r // 64) * lbo + (k % 8) * 128 + (k // 8) * sbo
            else:
                byte = start + (r % 8) * 128 + (r // 8) * sbo + (k // t) * 16 + (k % t) * esize
            address = swizzle_128b(byte)
            assert address % esize == 0
            line.append(shared[address // esize])
        out.append(line)
    return out


def accumulator_position(thread, register):
    """(row, column) of D[64, N] in fp32 register `register` of warpgroup thread `thread` (0..127), m64nNk16."""
    warp, lane = thread // 32, thread % 32
    return 16 * warp + lane // 4 + 8 * ((register // 2) % 2), 8 * (register // 4) + 2 * (lane % 4) + register % 2


# ---------------------------------------------------------------- one block, through the kernel's main loop

class SharedMemory:
    """Shared memory as elements of esize bytes, with cp.async groups landing at issue (`copies_late` False) or at the
    cp.async.wait_group that retires them (True); per thread in the kernel, but every thread waits on the same count
    at the same point, so one queue of groups stands for all of them."""

    def __init__(self, size_bytes, operands, copies_late, esize):
        self.esize = esize
        self.words = [0x7FFF] * (size_bytes // esize)  # not zero: a read of memory never written shows
        self.operands, self.late, self.pending, self.group = operands, copies_late, [], []

    def copy16(self, address, source, operand):
        count = 16 // self.esize
        assert address % 16 == 0 and 0 <= address and address + 16 <= len(self.words) * self.esize
        data = [0] * count if source is None else self.operands[operand][source:source + count]
        self.group.append((address, data))

    def commit(self):
        self.pending.append(self.group)
        self.group = []
        if not self.late:
            self.land(len(self.pending))

    def wait(self, pending_allowed):
        self.land(len(self.pending) - pending_allowed)

    def land(self, count):
        for group in self.pending[:max(count, 0)]:
            for address, data in group:
                self.words[address // self.esize:address // self.esize + len(data)] = data
        del self.pending[:max(count, 0)]


class Operand:
    """A bf16 (esize 2) or int8 (esize 1) operand in memory: K-major (rows of MN, each ld >= k long) or MN-major (k
    rows, each ld >= MN long), ld whole 16-byte chunks, its padding zero; at(mn, kk) is the element the product
    multiplies, zero past the matrix."""

    def __init__(self, mn_major, extent, k, rng, esize=2):
        self.mn_major, self.extent, self.k, self.esize = mn_major, extent, k, esize
        chunk = 16 // esize
        self.ld = ((extent if mn_major else k) + chunk - 1) // chunk * chunk
        lines, length = (k, extent) if mn_major else (extent, k)
        self.data = [rng.randint(-8, 8) if i < length else 0 for _ in range(lines) for i in range(self.ld)]

    def at(self, mn, kk):
        if mn >= self.extent or kk >= self.k:
            return 0
        return self.data[kk * self.ld + mn] if self.mn_major else self.data[mn * self.ld + kk]

    def copier(self, v, rows_in_tile, thread, first):
        kind = TileCopyMN if self.mn_major else TileCopyK
        return kind(v, rows_in_tile, thread, self.ld, self.extent, self.k, first, self.esize)


def run_block(v, a, b, bias, addend, c, m, n, k, grid_x, block_x, block_y, copies_late, base):
    """The kernel for one block; `base` is the 1024-aligned shared address the kernel rounds its window up to."""
    block_m, block_n = block_tile(v, m, grid_x, block_x, block_y)
    tile_k = ROW_BYTES // a.esize
    k_tiles = (k + tile_k - 1) // tile_k
    shared = SharedMemory(base + v.shared_bytes, {"a": a.data, "b": b.data}, copies_late, a.esize)
    copy_a = [a.copier(v, v.bm, i, block_m) for i in range(v.threads)]
    copy_b = [b.copier(v, v.bn, i, block_n) for i in range(v.threads)]

    def load_stage(tile, stage):
        if tile < k_tiles:
            at = base + stage * v.stage_bytes
            for thread in range(v.threads):
                for operand, copier, tile_at in (("a", copy_a, at), ("b", copy_b, at + v.a_bytes)):
                    written = copier[thread].copy(tile_at, tile)
                    for address, source in written:
                        shared.copy16(address, source, operand)
        shared.commit()

    def next_stage(stage):
        return 0 if stage == v.stages - 1 else stage + 1

    groups = v.bm // 64
    a_descriptors = [descriptor(base + w * 64 * ROW_BYTES, a.mn_major) for w in range(groups)]
    b_descriptor = descriptor(base + v.a_bytes, b.mn_major)
    # Per warpgroup: its committed wgmma groups not yet retired, each a list of (descriptor a, descriptor b), and the
    # operands its retired and read wgmma have gathered (the product is taken once, at the end: it is exact).
    queued = [[] for _ in range(groups)]
    gathered = [([[] for _ in range(64)], [[] for _ in range(v.bn)]) for _ in range(groups)]

    def read(w, issued):
        for da, db in issued:
            a_rows, b_rows = gathered[w]
            for row, line in zip(a_rows, wgmma_operand(shared.words, da, 64, a.mn_major, a.esize)):
                row.extend(line)
            for row, line in zip(b_rows, wgmma_operand(shared.words, db, v.bn, b.mn_major, b.esize)):
                row.extend(line)

    def wgmma_wait(w, pending_allowed):
        while len(queued[w]) > pending_allowed:
            if copies_late:
                queued[w].pop(0)  # read at issue already
            else:
                read(w, queued[w].pop(0))

    for s in range(v.stages - 2):
        load_stage(s, s)
    read_stage, write_stage = 0, v.stages - 2
    for kt in range(k_tiles):
        shared.wait(v.stages - 3)
        for w in range(groups):
            issued = []
            for step in range(4):
                stage = read_stage * v.stage_bytes
                issued.append((a_descriptors[w] + ((stage + step_bytes(a.mn_major, step)) >> 4),
                               b_descriptor + ((stage + step_bytes(b.mn_major, step)) >> 4)))
            if copies_late:
                read(w, issued)
            queued[w].append(issued)
        load_stage(kt + v.stages - 2, write_stage)
        for w in range(groups):
            wgmma_wait(w, 1)
        read_stage, write_stage = next_stage(read_stage), next_stage(write_stage)
    for w in range(groups):
        wgmma_wait(w, 0)
    assert shared.group == []

    for w in range(groups):
        a_rows, b_rows = gathered[w]
        # The operands as gathered must be the block's rows of A and B, zero past the matrix and past k.
        for r, row in enumerate(a_rows):
            assert row == [a.at(block_m + w * 64 + r, kk) for kk in range(k_tiles * tile_k)], f"A row {r} of warpgroup {w} read wrong"
        for r, row in enumerate(b_rows):
            assert row == [b.at(block_n + r, kk) for kk in range(k_tiles * tile_k)], f"B row {r} read wrong"
        d = [[sum(map(operator.mul, ar, br)) for br in b_rows] for ar in a_rows]
        for thread in range(128):
            warp, lane = thread // 32, thread % 32
            row0 = block_m + w * 64 + warp * 16
            acc = load_accumulators(addend, m, n, row0, block_n, lane, v.bn // 8) if addend is not None else [[0] * 4 for _ in range(v.bn // 8)]
            for i in range(v.bn // 2):
                row, column = accumulator_position(thread, i)
                acc[i // 4][i % 4] += d[row][column]
            store_accumulators(acc, c, bias, m, n, row0, block_n, lane)


# The products as the kernels pose them: (name, A MN-major, B MN-major, bytes per element): matmul_bf16_sm90a.cu's
# three products of a linear layer, and ternary_gemm_sm90a.cu's int8 one.
FORMS = [("forward", False, False, 2), ("input gradient", False, True, 2), ("weight gradient", True, True, 2),
         ("int8 forward", False, False, 1)]


def emulate(v, form, m, n, k, with_bias, with_addend, rng):
    name, a_mn, b_mn, esize = form
    a, b = Operand(a_mn, m, k, rng, esize), Operand(b_mn, n, k, rng, esize)
    bias = [rng.randint(-100, 100) for _ in range(n)] if with_bias else None
    addend = [rng.randint(-1000, 1000) for _ in range(m * n)] if with_addend else None
    grid_x, grid_y = (n + v.bn - 1) // v.bn, (m + v.bm - 1) // v.bm
    exact = [sum(a.at(row, kk) * b.at(col, kk) for kk in range(k)) + (bias[col] if bias else 0) + (addend[row * n + col] if addend else 0)
             for row in range(m) for col in range(n)]
    for copies_late in (False, True):
        c = [None] * (m * n)
        for block_y in range(grid_y):
            for block_x in range(grid_x):
                # The window's address is the kernel's (shared_address + 1023) & ~1023 for some 16-aligned start.
                base = (rng.randrange(0, 1024, 16) + 1023) & ~1023
                run_block(v, a, b, bias, addend, c, m, n, k, grid_x, block_x, block_y, copies_late, base)
        wrong = [i for i in range(m * n) if c[i] != exact[i]]
        assert not wrong, f"{v} {name} {m}x{n}x{k}: C[{wrong[0] // n}, {wrong[0] % n}] = {c[wrong[0]]}, exact {exact[wrong[0]]}"


def check_block_order(v):
    """block_tile maps the grid onto the output tiles one to one, for grids with a partial last group of rows."""
    for tiles_m in (1, 3, 8, 9, 17, 32):
        for tiles_n in (1, 2, 5, 22):
            seen = {block_tile(v, tiles_m * v.bm, tiles_n, x, y) for y in range(tiles_m) for x in range(tiles_n)}
            assert seen == {(i * v.bm, j * v.bn) for i in range(tiles_m) for j in range(tiles_n)}, (tiles_m, tiles_n)


def check_copy_banks(v):
    """Each 8 neighbouring threads' 16-byte copies land in 8 distinct 16-byte bank groups (one 128-byte phase), and a
    tile's copies fill it exactly once."""
    for rows in (v.bm, v.bn):
        for kind in (TileCopyK, TileCopyMN):
            copiers = [kind(v, rows, i, 1024, rows, 1024, 0) for i in range(v.threads)]
            for first in range(0, v.threads, 8):
                for i in range(copiers[0].copies):
                    groups = {(copiers[t].copy(0, 0)[i][0] >> 4) & 7 for t in range(first, first + 8)}
                    assert len(groups) == 8
            addresses = sorted(address for copier in copiers for address, _ in copier.copy(0, 0))
            assert addresses == list(range(0, rows * ROW_BYTES, 16)), kind.__name__


def check_accumulator_layout(n):
    """accumulator_position is a bijection of the warpgroup's 128 x N / 2 registers onto D[64, N]."""
    positions = {accumulator_position(t, i) for t in range(128) for i in range(n // 2)}
    assert positions == {(r, c) for r in range(64) for c in range(n)}


# build_wgmma_sweep.sh's variants, and a single-warpgroup tile.
VARIANTS = [Variant(128, 256, 4), Variant(128, 256, 3), Variant(128, 128, 3), Variant(128, 128, 6), Variant(256, 128, 4),
            Variant(64, 256, 4)]
# (M, N, K): ragged in every dimension (K not a multiple of 8, nor of 64; partial last tiles of rows and of columns,
# warpgroups with some or none of their rows inside M), k tiles fewer than the stages and more than the stages + 1 (a
# stage overwritten early or a wgmma group retired late shows only then), and one exact fit.
SHAPES = [(150, 300, 200), (70, 130, 77), (100, 200, 600), (64, 256, 64)]


def main():
    rng = random.Random(20261207)
    for n in (128, 256):
        check_accumulator_layout(n)
    for v in VARIANTS:
        check_block_order(v)
        check_copy_banks(v)
        for form in FORMS:
            for index, (m, n, k) in enumerate(SHAPES):
                emulate(v, form, m, n, k, with_bias=form[0] == "forward" and index % 2 == 0, with_addend=index % 2 == 1, rng=rng)
        print(f"{v}: exact on {len(SHAPES)} shapes of each of {len(FORMS)} products, both async timings", flush=True)
    print(f"{len(VARIANTS)} passed, 0 failed")


if __name__ == "__main__":
    main()
