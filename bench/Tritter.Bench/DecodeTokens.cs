using Tritter.Inference;

namespace Tritter.Bench;

/// <summary>
/// The tokens the decode suites feed, one per step: ids 10 to 1009 in turn, inside every preset's vocabulary, and
/// never the same twice running, so no step is a repeat of the one before.
/// </summary>
internal sealed class DecodeTokens
{
    private int _last;

    /// <summary>One decode step as generation runs it: the next token into <paramref name="session"/>, its logits to the host.</summary>
    public void Step(DecodeSession session, float[] logits)
    {
        _last = _last % 1000 + 10;
        session.Append([_last]);
        session.ReadLogits(logits);
    }
}
