using Tritter.Core.Backends;
using Tritter.Native.Cuda;

namespace Tritter.Cuda;

/// <summary>
/// Decode steps recorded as CUDA graphs (<see cref="IDecodeStepCapture"/>). While a step runs in step mode, the ops that
/// take a position, a cache slot or a cache length pass the kernels a pointer into <c>_stepState</c>
/// (<c>{int64 position, int32 slot, int32 length}</c>, set by a few small fills before each run) instead of the value,
/// and decode attention launches every split any length may use; so one recording serves every token.
/// </summary>
public sealed partial class CudaBackend : IDecodeStepCapture
{
    private const int StepPositionOffset = 0;
    private const int StepSlotOffset = 8;
    private const int StepLengthOffset = 12;
    private DeviceMemory? _stepState;
    private DecodeStepInputs? _stepMode;

    /// <summary>Bumped whenever a work buffer that a recorded step may point into is reallocated.</summary>
    private int _scratchGeneration;

    /// <inheritdoc />
    public IDecodeStepGraph CaptureDecodeStep(Action<DecodeStepInputs> enqueue)
    {
        ArgumentNullException.ThrowIfNull(enqueue);
        return new StepGraph(this, enqueue);
    }

    /// <summary>The step state's position, or a null pointer outside step mode (then the kernel takes <paramref name="firstPosition"/>).</summary>
    private DevicePointer StepPosition(long firstPosition) => StepField(firstPosition, _stepMode?.FirstPosition, StepPositionOffset, "position");

    /// <summary>The step state's slot, or a null pointer outside step mode.</summary>
    private DevicePointer StepSlot(int firstSlot) => StepField(firstSlot, _stepMode?.FirstSlot, StepSlotOffset, "cache slot");

    /// <summary>The step state's cache length, or a null pointer outside step mode.</summary>
    private DevicePointer StepLength(int length) => StepField(length, _stepMode?.Length, StepLengthOffset, "cache length");

    private DevicePointer StepField(long given, long? stepValue, int offset, string what)
    {
        if (stepValue is not { } expected)
            return default;
        // A value other than the step's would be frozen into the recording and be wrong for every later token.
        if (given != expected)
            throw new InvalidOperationException($"a recorded decode step passed {what} {given}, not the step's {expected}");
        return _stepState!.Pointer.Offset(offset);
    }

    private void SetStepState(DecodeStepInputs inputs)
    {
        MakeCurrent();
        _ropeAngles = null;
        _stepState ??= DeviceMemory.Allocate(16);
        var state = _stepState.Pointer;
        state.Offset(StepPositionOffset).FillAsync((uint)inputs.FirstPosition, 1, Stream);
        state.Offset(StepPositionOffset + 4).FillAsync((uint)(inputs.FirstPosition >> 32), 1, Stream);
        state.Offset(StepSlotOffset).FillAsync((uint)inputs.FirstSlot, 1, Stream);
        state.Offset(StepLengthOffset).FillAsync((uint)inputs.Length, 1, Stream);
    }

    /// <summary>
    /// A recorded step: made on its first run (the step runs once in step mode, which sizes every work buffer, then is
    /// captured from the stream), replayed afterwards, and made again if a work buffer it points into was reallocated.
    /// </summary>
    private sealed class StepGraph(CudaBackend backend, Action<DecodeStepInputs> step) : IDecodeStepGraph
    {
        private CudaGraph? _graph;
        private int _generation;

        public void Run(DecodeStepInputs inputs)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(inputs.FirstPosition);
            ArgumentOutOfRangeException.ThrowIfNegative(inputs.FirstSlot);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputs.Length);
            backend.SetStepState(inputs);
            if (_graph is not null && _generation == backend._scratchGeneration)
            {
                _graph.Launch(backend.Stream);
                return;
            }
            _graph?.Dispose();
            _graph = null;
            backend._stepMode = inputs;
            try
            {
                step(inputs);
                _generation = backend._scratchGeneration;
                // The recording must compute what the run just computed, not reuse it.
                backend._ropeAngles = null;
                _graph = CudaGraph.Capture(backend.Stream, () => step(inputs));
                if (_generation != backend._scratchGeneration)
                    throw new InvalidOperationException("a work buffer was reallocated while a decode step was captured");
            }
            finally
            {
                backend._stepMode = null;
                backend._ropeAngles = null;
            }
        }

        public void Dispose()
        {
            _graph?.Dispose();
            _graph = null;
        }
    }
}
