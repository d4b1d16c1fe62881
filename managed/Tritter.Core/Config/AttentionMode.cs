namespace Tritter.Core.Config;

/// <summary>Which keys a query may attend to.</summary>
public enum AttentionMode
{
    /// <summary>Each position sees itself and earlier positions.</summary>
    Causal,
    /// <summary>Every position sees every position.</summary>
    Bidirectional,
    /// <summary>The first <c>prefixLength</c> positions see each other; later positions are causal.</summary>
    PrefixLm,
    /// <summary>Causal, limited to the last <see cref="TritterConfig.SlidingWindow"/> positions.</summary>
    SlidingWindow,
    /// <summary>Causal within a document; documents are marked by segment ids and never see each other.</summary>
    DocumentBoundary,
}
