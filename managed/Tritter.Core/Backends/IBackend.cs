namespace Tritter.Core.Backends;

/// <summary>
/// The whole op contract the model graph is written against. Each op family is its own interface, so a backend that is
/// still being built can implement the families it has and be used (and tested) for those, while the model graph asks
/// for the complete contract.
/// </summary>
public interface IBackend : ITensorStore, IActivationOps, IElementwiseOps, IMatmulOps, INormOps, IEmbeddingOps, IRopeOps,
    IAttentionOps, ILossOps, IOptimizerOps, ITernaryOps, IPackedTernaryOps, IKvCacheOps, IDecodeBackend;
