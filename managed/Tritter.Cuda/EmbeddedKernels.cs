using System.Reflection;

namespace Tritter.Cuda;

/// <summary>The PTX modules the build embedded, one per <c>kernels/*.cu</c> file, by file name without extension.</summary>
public static class EmbeddedKernels
{
    private const string Prefix = "ptx/";
    private const string Suffix = ".ptx";

    /// <summary>Names of the embedded modules, e.g. "sqrelu".</summary>
    public static IReadOnlyList<string> ModuleNames { get; } =
        [.. typeof(EmbeddedKernels).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(Suffix, StringComparison.Ordinal))
            .Select(n => n[Prefix.Length..^Suffix.Length])
            .Order(StringComparer.Ordinal)];

    /// <summary>The PTX text of module <paramref name="name"/>.</summary>
    public static string Ptx(string name)
    {
        using var stream = typeof(EmbeddedKernels).Assembly.GetManifestResourceStream(Prefix + name + Suffix)
            ?? throw new InvalidOperationException(
                $"no PTX module '{name}' is embedded in {typeof(EmbeddedKernels).Assembly.GetName().Name} " +
                $"(embedded: {(ModuleNames.Count == 0 ? "none; build with nvcc on PATH" : string.Join(", ", ModuleNames))})");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
