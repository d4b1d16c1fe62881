namespace Tritter.Native.Cuda;

/// <summary>How a kernel launch is ordered after the kernel queued before it on the same stream.</summary>
public enum LaunchOrder
{
    /// <summary>The stream's ordinary order: the kernel starts once everything queued before it has finished.</summary>
    AfterPrevious,

    /// <summary>
    /// Programmatic dependent launch (compute capability 9.0 and up, <see cref="CudaDeviceInfo.SupportsProgrammaticLaunch"/>):
    /// the kernel may start while the kernel before it still runs, as soon as that one's blocks have all executed
    /// <c>griddepcontrol.launch_dependents</c> or exited, so its prologue overlaps the previous kernel's tail. Only correct
    /// for a kernel that executes <c>griddepcontrol.wait</c> (which returns once the previous kernels have completed and
    /// their writes are visible) before it touches any memory the previous kernels write or read; the PTX built for
    /// compute_80 has no such wait, so launch this way only a module loaded from a compute_90 or later build.
    /// </summary>
    Programmatic,
}
