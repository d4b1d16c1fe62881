using System.Runtime.Intrinsics.X86;

namespace Tritter.Cpu.Ternary;

/// <summary>The instruction-set paths of the packed ternary kernels; tests run each one the machine has.</summary>
internal enum TernaryKernelPath
{
    /// <summary>Plain C#, any CPU.</summary>
    Portable,

    /// <summary>Portable 128-bit vectors (<see cref="System.Runtime.Intrinsics.Vector128"/>): SSE2, NEON, any CPU the JIT vectorises for.</summary>
    Vector128,

    /// <summary>AVX2 with FMA: Haswell and later, Zen and later.</summary>
    Avx2,

    /// <summary>AVX-512 F and BW: Skylake-SP and later, Zen 4 and later.</summary>
    Avx512,
}

/// <summary>Which paths this machine runs.</summary>
internal static class TernaryKernelPaths
{
    /// <summary>The fastest supported path.</summary>
    public static TernaryKernelPath Best =>
        IsSupported(TernaryKernelPath.Avx512) ? TernaryKernelPath.Avx512
        : IsSupported(TernaryKernelPath.Avx2) ? TernaryKernelPath.Avx2
        : IsSupported(TernaryKernelPath.Vector128) ? TernaryKernelPath.Vector128
        : TernaryKernelPath.Portable;

    /// <summary>Whether <paramref name="path"/> runs here.</summary>
    public static bool IsSupported(TernaryKernelPath path) => path switch
    {
        TernaryKernelPath.Portable => true,
        TernaryKernelPath.Vector128 => System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated,
        TernaryKernelPath.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        TernaryKernelPath.Avx512 => Avx512F.IsSupported && Avx512BW.IsSupported,
        _ => false,
    };
}
