namespace Tritter.Core.Backends;

/// <summary>
/// The op families a KV-cache decoder needs (<c>Tritter.Inference.DecodeModel</c>): no attention over a whole sequence,
/// no loss, no optimiser, no quantiser of shadow weights. A backend that has these can generate before it can train.
/// </summary>
public interface IDecodeBackend : ITensorStore, IEmbeddingOps, INormOps, IRopeOps, IElementwiseOps, IActivationOps, IMatmulOps,
    IPackedTernaryOps, IKvCacheOps, IDecodeFusedOps;
