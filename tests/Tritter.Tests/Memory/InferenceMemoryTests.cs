using Tritter.Core.Config;
using Tritter.Core.Memory;

namespace Tritter.Tests.Memory;

/// <summary>Inference sizes against counts made by hand from the formats' documents.</summary>
public sealed class InferenceMemoryTests
{
    [Test]
    public void Seven_b_weights_and_caches_match_a_hand_count()
    {
        var memory = new InferenceMemory(TritterPresets.Get("7B"));
        // Per layer: q, o 4096x4096; k, v 1024x4096; gate, up 11008x4096; down 4096x11008. Every K is a multiple of 64,
        // so no padding: 4 weights per byte. One float32 scale and one float32 bias per output row.
        const long weights = 2L * 4096 * 4096 + 2L * 1024 * 4096 + 3L * 11008 * 4096;
        const long rows = 4096 + 1024 + 1024 + 4096 + 11008 + 11008 + 4096;
        const long norms = 2 * 2 * 4096 + 2 * 2 * 128;
        Assert.That(memory.LayerBytes, Is.EqualTo(weights / 4 + rows * 4 + rows * 4 + norms * 4));
        Assert.That(memory.EmbeddingBytes, Is.EqualTo(65536L * 4096 * 4));
        Assert.That(memory.HeadBytes, Is.EqualTo(65536L * 4096 / 4 + 65536 * 4));
        Assert.That(memory.WeightBytes(), Is.EqualTo(32 * memory.LayerBytes + memory.EmbeddingBytes + memory.HeadBytes + 2 * 4096 * 4));
        Assert.That(memory.WeightBytes(), Is.EqualTo(2_570_289_152L), "2.39 GiB");

        // INT4: 64 bytes of nibbles and 4 fp16 scales per (position, KV head) for K and again for V: 144 bytes.
        Assert.That(memory.KvBytesPerToken(KvPrecision.Int4), Is.EqualTo(32L * 8 * 144));
        Assert.That(memory.KvBytesPerToken(KvPrecision.Fp16), Is.EqualTo(32L * 8 * 2 * 128 * 2));
        Assert.That(memory.KvCacheBytes(KvPrecision.Int4, 131072), Is.EqualTo(4_831_838_208L), "4.5 GiB");
        Assert.That(memory.KvCacheBytes(KvPrecision.Fp16, 131072), Is.EqualTo(16 * ByteSize.GiB));
    }

    [Test]
    public void Tiny_pads_rows_to_64_weights_and_has_no_int4_cache()
    {
        var memory = new InferenceMemory(TritterPresets.Get("tiny"));
        // K = 64 packs to 16 bytes a row; K = 172 pads to 192 weights, 48 bytes a row.
        const long codes = (64 + 32 + 32 + 64 + 172 + 172) * 16 + 64 * 48;
        const long rows = 64 + 32 + 32 + 64 + 172 + 172 + 64;
        Assert.That(memory.LayerBytes, Is.EqualTo(codes + 2 * rows * 4 + (2 * 2 * 64 + 2 * 2 * 16) * 4));
        Assert.That(memory.WeightBytes(), Is.EqualTo(2 * 17_728 + 512 * 64 * 4 + (512 * 16 + 512 * 4) + 2 * 64 * 4));
        Assert.That(memory.SupportsInt4, Is.False, "head_dim 16 is not a multiple of the INT4 group of 32");
        Assert.That(() => memory.KvBytesPerToken(KvPrecision.Int4), Throws.InvalidOperationException);
        Assert.That(memory.KvBytesPerToken(KvPrecision.Fp16), Is.EqualTo(2 * 2 * 2 * 16 * 2));
        Assert.That(memory.KvCacheBytes(KvPrecision.Fp16, 17), Is.EqualTo(32 * 256), "whole blocks of 16 slots");
    }

    [Test]
    public void Without_bitnet_and_in_the_paper_scheme_the_weights_are_what_those_store()
    {
        var tiny = TritterPresets.Get("tiny");
        var plain = new InferenceMemory(tiny with { UseBitnet = false });
        const long weights = 2 * 64 * 64 + 2 * 32 * 64 + 3 * 172 * 64;
        const long rows = 64 + 32 + 32 + 64 + 172 + 172 + 64;
        Assert.That(plain.LayerBytes, Is.EqualTo(weights * 4 + rows * 4 + (2 * 2 * 64 + 2 * 2 * 16) * 4));
        Assert.That(plain.HeadBytes, Is.EqualTo(512 * 64 * 4));
        var paper = new InferenceMemory(tiny with { QuantizationScheme = QuantizationScheme.Paper });
        Assert.That(paper.HeadBytes, Is.EqualTo(512 * 16 + 512 * 4), "the gamma repeated over the rows");
    }
}
