using System.Globalization;

namespace Tritter.Cuda;

/// <summary>
/// The PTX modules the build embedded, one per <c>kernels/*.cu</c> file, by file name without extension, each in one or
/// more builds: <c>ptx/NAME.ptx</c> for compute_80 (the first <c>--cuda-arch</c> of build.cake) and
/// <c>ptx/NAME.compute_XY.ptx</c> for each further target; <c>ptx/NAME.compute_XYa.ptx</c> for a module built only for
/// architecture XY's own features (build.cake's <c>*_sm90a.cu</c>).
/// </summary>
public static class EmbeddedKernels
{
    /// <summary>The architecture of the unsuffixed build, which build.cake requires to be its first target.</summary>
    public const int BaseArchitecture = 80;

    private const string Prefix = "ptx/";
    private const string Suffix = ".ptx";
    private const string TargetPrefix = "compute_";

    private static readonly string[] ResourceNames = typeof(EmbeddedKernels).Assembly.GetManifestResourceNames();
    private static readonly PtxVariant[] Variants = Parse(ResourceNames);

    /// <summary>Names of the embedded modules, e.g. "sqrelu", without target suffixes.</summary>
    public static IReadOnlyList<string> ModuleNames { get; } =
        [.. Variants.Select(v => v.Module).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>The targets embedded, lowest first, e.g. "compute_80", "compute_90", "compute_90a".</summary>
    public static IReadOnlyList<string> Targets { get; } =
        [.. Variants.OrderBy(v => v.Architecture).ThenBy(v => v.ArchitectureSpecific).Select(v => v.Target).Distinct()];

    /// <summary>The build of <paramref name="module"/> a device of <paramref name="capability"/> loads (see <see cref="Choose"/>).</summary>
    public static PtxVariant Variant(string module, (int Major, int Minor) capability) => Choose(ResourceNames, module, capability);

    /// <summary>
    /// Whether <paramref name="module"/> has a build a device of <paramref name="capability"/> runs: false for an
    /// architecture-specific module (<c>matmul_bf16_sm90a</c>) on any other device, or for one not embedded.
    /// </summary>
    public static bool RunsOn(string module, (int Major, int Minor) capability) =>
        Variants.Any(v => v.Module == module && v.RunsOn(PtxVariant.ArchitectureOf(capability)));

    /// <summary>The PTX text of <paramref name="variant"/>.</summary>
    public static string Ptx(PtxVariant variant)
    {
        ArgumentNullException.ThrowIfNull(variant);
        using var stream = typeof(EmbeddedKernels).Assembly.GetManifestResourceStream(variant.ResourceName)
            ?? throw new InvalidOperationException($"{variant.ResourceName} is not embedded in {AssemblyName}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>
    /// Out of <paramref name="resourceNames"/>, the build of <paramref name="module"/> with the highest target a device of
    /// <paramref name="capability"/> runs: PTX for compute_XY JIT-compiles on compute capability X.Y and above only,
    /// for compute_XYa on X.Y alone; of two builds for one architecture, the architecture-specific one.
    /// Throws when the module is not there or no build of it runs on the device.
    /// </summary>
    internal static PtxVariant Choose(IEnumerable<string> resourceNames, string module, (int Major, int Minor) capability)
    {
        var builds = Parse(resourceNames);
        var ofModule = builds.Where(v => v.Module == module).ToList();
        if (ofModule.Count == 0)
        {
            var modules = builds.Select(v => v.Module).Distinct().Order(StringComparer.Ordinal).ToList();
            throw new InvalidOperationException(
                $"no PTX module '{module}' is embedded in {AssemblyName} " +
                $"(embedded: {(modules.Count == 0 ? "none; build with nvcc on PATH" : string.Join(", ", modules))})");
        }
        var device = PtxVariant.ArchitectureOf(capability);
        return ofModule.Where(v => v.RunsOn(device)).OrderBy(v => v.Architecture).ThenBy(v => v.ArchitectureSpecific).LastOrDefault()
            ?? throw new InvalidOperationException(
                $"PTX module '{module}' is embedded for {string.Join(", ", ofModule.OrderBy(v => v.Architecture).Select(v => v.Target))} only, " +
                $"none of which runs on this device (compute capability {capability.Major}.{capability.Minor}): PTX for compute_XY needs X.Y " +
                "or above, for compute_XYa X.Y itself");
    }

    private static string AssemblyName => typeof(EmbeddedKernels).Assembly.GetName().Name!;

    private static PtxVariant[] Parse(IEnumerable<string> resourceNames) =>
        [.. resourceNames.Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(Suffix, StringComparison.Ordinal))
            .Select(ParseOne)];

    // "ptx/NAME.ptx" is the base build; "ptx/NAME.compute_XY.ptx" the build for compute_XY, "ptx/NAME.compute_XYa.ptx"
    // for compute_XYa. Any other dotted stem is a base module of that whole name (kernel file names have no dots, so none
    // is expected).
    private static PtxVariant ParseOne(string resourceName)
    {
        var stem = resourceName[Prefix.Length..^Suffix.Length];
        var dot = stem.LastIndexOf('.');
        if (dot > 0 && stem[(dot + 1)..].StartsWith(TargetPrefix, StringComparison.Ordinal))
        {
            var target = stem[(dot + 1 + TargetPrefix.Length)..];
            var specific = target.EndsWith('a');
            if (int.TryParse(specific ? target[..^1] : target, NumberStyles.None, CultureInfo.InvariantCulture, out var architecture))
                return new PtxVariant(stem[..dot], architecture, resourceName, specific);
        }
        return new PtxVariant(stem, BaseArchitecture, resourceName);
    }
}
