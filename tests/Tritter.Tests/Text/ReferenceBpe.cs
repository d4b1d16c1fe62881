using System.Text;
using Tritter.Text;
using Tritter.Text.Bpe;

namespace Tritter.Tests.Text;

/// <summary>The textbook BPE encoder (apply the lowest-ranked merge until none applies), the oracle for the library's encoding.</summary>
internal static class ReferenceBpe
{
    public static List<int> Encode(ByteLevelBpeModel model, string text)
    {
        var ranks = new Dictionary<(int, int), int>();
        for (var r = 0; r < model.Merges.Count; r++)
            ranks.TryAdd(model.Merges[r], r);
        var ids = new Dictionary<string, int>();
        for (var i = 0; i < model.Tokens.Count; i++)
            ids[Convert.ToHexString(model.Tokens[i])] = i;
        var result = new List<int>();
        foreach (var (offset, length) in CodePreTokenizer.Instance.PreTokenize(text))
        {
            var symbols = Encoding.UTF8.GetBytes(text.Substring(offset, length)).Select(b => ids[Convert.ToHexString([b])]).ToList();
            while (true)
            {
                var best = -1;
                var bestRank = int.MaxValue;
                for (var i = 0; i + 1 < symbols.Count; i++)
                {
                    if (ranks.TryGetValue((symbols[i], symbols[i + 1]), out var rank) && rank < bestRank)
                        (best, bestRank) = (i, rank);
                }
                if (best < 0)
                    break;
                var (left, right) = model.Merges[bestRank];
                var merged = ids[Convert.ToHexString([.. model.Tokens[left], .. model.Tokens[right]])];
                for (var i = 0; i + 1 < symbols.Count; i++)
                {
                    if (symbols[i] == left && symbols[i + 1] == right)
                    {
                        symbols[i] = merged;
                        symbols.RemoveAt(i + 1);
                    }
                }
            }
            result.AddRange(symbols.Select(s => s + SpecialTokens.Count));
        }
        return result;
    }
}
