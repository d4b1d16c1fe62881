namespace Tritter.Text;

/// <summary>The kinds of content that share the one vocabulary.</summary>
public enum Modality
{
    /// <summary>Natural-language text, byte-level BPE.</summary>
    Text,

    /// <summary>Source code, byte-level BPE with function/class block boundaries.</summary>
    Code,

    /// <summary>Image codebook tokens (from a VQ image tokenizer).</summary>
    Image,

    /// <summary>Audio codebook tokens (from a neural audio codec).</summary>
    Audio,
}
