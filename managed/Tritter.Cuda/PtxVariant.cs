namespace Tritter.Cuda;

/// <summary>One embedded PTX build of a kernel module: the module, and the virtual architecture it was compiled for.</summary>
/// <param name="Module">The <c>kernels/*.cu</c> file without extension, e.g. "sqrelu".</param>
/// <param name="Architecture">The virtual architecture as a number, e.g. 90 for compute_90.</param>
/// <param name="ResourceName">The manifest resource that holds the PTX text.</param>
/// <param name="ArchitectureSpecific">
/// Whether the build is for exactly that architecture (compute_90a: Hopper's wgmma), which no other device runs, newer
/// ones included.
/// </param>
public sealed record PtxVariant(string Module, int Architecture, string ResourceName, bool ArchitectureSpecific = false)
{
    /// <summary>The nvcc target, e.g. "compute_90" or "compute_90a".</summary>
    public string Target => TargetName(Architecture) + (ArchitectureSpecific ? "a" : "");

    /// <summary>Whether a device of <paramref name="architecture"/> (see <see cref="ArchitectureOf"/>) JIT-compiles this build.</summary>
    public bool RunsOn(int architecture) => ArchitectureSpecific ? architecture == Architecture : architecture >= Architecture;

    /// <summary>
    /// Whether this build compiles <c>griddepcontrol.wait</c> in, so its kernels that wait may be launched with
    /// <see cref="Native.Cuda.LaunchOrder.Programmatic"/>; a variant is only chosen for a device that runs it, so such a
    /// device supports the launch too.
    /// </summary>
    public bool SupportsProgrammaticLaunch => Architecture >= 90;

    /// <summary>The architecture number of a compute capability: (9, 0) is 90, (12, 0) is 120.</summary>
    public static int ArchitectureOf((int Major, int Minor) capability) => capability.Major * 10 + capability.Minor;

    /// <summary>The nvcc target of an architecture number, e.g. "compute_90" for 90.</summary>
    public static string TargetName(int architecture) => $"compute_{architecture}";

    /// <inheritdoc />
    public override string ToString() => $"{Module} ({Target})";
}
