namespace Tritter.Cpu.Ternary;

/// <summary>
/// How many activation rows a kernel tile handles. The kernels are generic over a struct implementing this, so the JIT
/// compiles one specialisation per count with the unused accumulators removed.
/// </summary>
internal interface ITileRows
{
    /// <summary>Activation rows in the tile, 1 to <see cref="TileShape.MaxRows"/>.</summary>
    static abstract int Count { get; }
}

/// <summary>Tile geometry shared by the kernels.</summary>
internal static class TileShape
{
    /// <summary>Most activation rows per tile.</summary>
    public const int MaxRows = 4;

    /// <summary>Activation rows per tile on <paramref name="path"/>: 16 vector registers hold the accumulators of two.</summary>
    public static int Rows(TernaryKernelPath path) => path == TernaryKernelPath.Avx512 ? MaxRows : 2;

    /// <summary>Weight rows per tile: four independent accumulator chains hide the FMA latency at batch 1.</summary>
    public const int WeightRows = 4;
}

/// <summary>One activation row.</summary>
internal readonly struct OneRow : ITileRows
{
    public static int Count => 1;
}

/// <summary>Two activation rows.</summary>
internal readonly struct TwoRows : ITileRows
{
    public static int Count => 2;
}

/// <summary>Three activation rows.</summary>
internal readonly struct ThreeRows : ITileRows
{
    public static int Count => 3;
}

/// <summary>Four activation rows.</summary>
internal readonly struct FourRows : ITileRows
{
    public static int Count => 4;
}
