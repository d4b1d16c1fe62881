using Tritter.Core.Backends;
using Tritter.Core.Config;
using Tritter.Core.Model;
using Tritter.Core.Tensors;
using Tritter.Core.Training;

namespace Tritter.Core.Checkpoints;

/// <summary>
/// Moves a model's parameters and an optimiser's moments between a backend and checkpoint files, by the reference
/// state-dict names. A checkpoint directory holds the model (<see cref="ModelCheckpoint"/>) and, for training runs,
/// the optimiser and trainer state (<see cref="TrainingCheckpoint"/>).
/// </summary>
public static class ModelState
{
    /// <summary>Writes <paramref name="model"/>'s weights and config into <paramref name="directory"/> (created if needed).</summary>
    public static void SaveModel(string directory, IBackend backend, TritterModel model)
    {
        Directory.CreateDirectory(directory);
        ModelCheckpoint.Save(directory, model.Parameters.Select(p => Download(backend, p.Name, p.Value)), TritterConfigFile.ToJson(model.Config));
    }

    /// <summary>Writes the optimiser's moments and <paramref name="state"/> into <paramref name="directory"/>.</summary>
    public static void SaveTraining(string directory, IBackend backend, AdamWOptimizer optimizer, TrainerState state)
    {
        Directory.CreateDirectory(directory);
        TrainingCheckpoint.Save(directory, optimizer.Moments.Select(m =>
        {
            var first = Download(backend, m.Parameter, m.ExpAvg);
            var second = Download(backend, m.Parameter, m.ExpAvgSq);
            return AdamWMoments.Create(m.Parameter, first.Shape, first.Data, second.Data);
        }), state);
    }

    /// <summary>The configuration stored in the checkpoint at <paramref name="directory"/>.</summary>
    public static TritterConfig ReadConfig(string directory) =>
        TritterConfigFile.Read(Path.Combine(directory, ModelCheckpoint.ConfigFileName));

    /// <summary>Loads every parameter of <paramref name="model"/> from the checkpoint at <paramref name="directory"/>.</summary>
    public static void LoadModel(string directory, IBackend backend, TritterModel model)
    {
        using var checkpoint = ModelCheckpoint.Open(directory);
        foreach (var p in model.Parameters)
        {
            var host = new float[p.Value.ElementCount];
            checkpoint.ReadWeight(p.Name, p.Value.Shape.Dimensions, host);
            backend.Upload<float>(p.Value, host);
        }
    }

    /// <summary>Loads the optimiser's moments and step; returns the trainer state stored beside them.</summary>
    public static TrainerState LoadTraining(string directory, IBackend backend, AdamWOptimizer optimizer)
    {
        using var checkpoint = TrainingCheckpoint.Open(directory);
        foreach (var (parameter, expAvg, expAvgSq) in optimizer.Moments)
        {
            var first = new float[expAvg.ElementCount];
            var second = new float[expAvgSq.ElementCount];
            checkpoint.ReadMoments(parameter, first, second);
            UploadFloats(backend, expAvg, first);
            UploadFloats(backend, expAvgSq, second);
        }
        optimizer.RestoreStep(checked((int)checkpoint.State.Step));
        return checkpoint.State;
    }

    // Checkpoints hold float32 whatever the moments' type: bfloat16 widens exactly and narrows back to the same bits.
    private static NamedTensor Download(IBackend backend, string name, Tensor tensor)
    {
        var host = new float[tensor.ElementCount];
        if (tensor.Type == DType.BFloat16)
        {
            var bits = new ushort[tensor.ElementCount];
            backend.Download<ushort>(tensor, bits);
            BFloat16Bits.ToSingle(bits, host);
        }
        else
            backend.Download<float>(tensor, host);
        return new NamedTensor(name, tensor.Shape.Dimensions.ToArray(), host);
    }

    private static void UploadFloats(IBackend backend, Tensor tensor, float[] values)
    {
        if (tensor.Type != DType.BFloat16)
        {
            backend.Upload<float>(tensor, values);
            return;
        }
        var bits = new ushort[values.Length];
        BFloat16Bits.FromSingle(values, bits);
        backend.Upload<ushort>(tensor, bits);
    }
}
