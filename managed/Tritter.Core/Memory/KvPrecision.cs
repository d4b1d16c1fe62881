namespace Tritter.Core.Memory;

/// <summary>How the KV-cache stores keys and values.</summary>
public enum KvPrecision
{
    /// <summary>Two bytes per value.</summary>
    Fp16,

    /// <summary>4-bit values with one fp16 scale per group of 32 along head_dim (docs/formats/kv-cache-int4.md).</summary>
    Int4,
}
