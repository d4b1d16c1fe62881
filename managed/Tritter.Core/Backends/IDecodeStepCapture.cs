namespace Tritter.Core.Backends;

/// <summary>
/// What changes from one decode step to the next: the position of the step's first token, the cache slot it is written
/// to, and the number of cache slots attended over after it.
/// </summary>
/// <param name="FirstPosition">Position of the first new token (RoPE).</param>
/// <param name="FirstSlot">Cache slot of the first new token (<see cref="IKvCacheOps.KvCacheWrite"/>).</param>
/// <param name="Length">Slots the cache holds after the step (<see cref="IKvCacheOps.DecodeAttention"/>).</param>
public readonly record struct DecodeStepInputs(long FirstPosition, int FirstSlot, int Length);

/// <summary>
/// An optional capability of an <see cref="IDecodeBackend"/> (the CUDA backend has it, the CPU backend does not):
/// recording the ops of a one-token decode step once and replaying them per token, so that a step costs one launch
/// instead of hundreds. The recorded step reads its <see cref="DecodeStepInputs"/> from device memory that each run
/// sets, so the recording stays valid from token to token.
/// </summary>
public interface IDecodeStepCapture
{
    /// <summary>
    /// A recordable step: <paramref name="enqueue"/> queues the ops of one token, passing the inputs it is given to every op
    /// that takes a position, a cache slot or a cache length (the backend checks that it does), and has no other effect
    /// that must happen per token (it runs only when the step is recorded).
    /// </summary>
    IDecodeStepGraph CaptureDecodeStep(Action<DecodeStepInputs> enqueue);
}

/// <summary>A decode step recorded by <see cref="IDecodeStepCapture.CaptureDecodeStep"/>.</summary>
public interface IDecodeStepGraph : IDisposable
{
    /// <summary>
    /// Queues the step for <paramref name="inputs"/>: the recording is replayed, or made first (running the step as it
    /// is recorded) when there is none yet or the backend's work buffers have moved since.
    /// </summary>
    void Run(DecodeStepInputs inputs);
}
