using Tritter.Core.Checkpoints;
using Tritter.Core.Training;

namespace Tritter.Cli;

/// <summary>What <c>--model</c> names: a checkpoint directory, or a run directory whose latest checkpoint is meant.</summary>
internal static class CheckpointLocation
{
    /// <summary>The checkpoint directory <paramref name="path"/> names; a one-line usage error when it names none.</summary>
    public static string Find(string path)
    {
        if (!Directory.Exists(path))
            throw new CliUsageException($"--model {path}: no such directory");
        return File.Exists(Path.Combine(path, ModelCheckpoint.WeightsFileName)) ? path : TrainingRun.LatestCheckpoint(path)
            ?? throw new CliUsageException($"--model {path}: neither a checkpoint (model.safetensors) nor a run directory with {TrainingRun.CheckpointDirectory}/");
    }
}
