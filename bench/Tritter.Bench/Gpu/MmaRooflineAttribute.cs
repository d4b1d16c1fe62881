namespace Tritter.Bench.Gpu;

/// <summary>
/// Marks a compute-bound GPU suite or benchmark: its TFLOP/s is also shown as a percentage of the measured tensor-core
/// peak of <see cref="Kind"/> (the "% mma peak" column). On a method it overrides the suite's.
/// </summary>
/// <param name="kind">The instruction whose peak is the case's roofline.</param>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, Inherited = true)]
public sealed class MmaRooflineAttribute(MmaKind kind) : Attribute
{
    /// <summary>The instruction whose peak is the case's roofline.</summary>
    public MmaKind Kind { get; } = kind;
}
