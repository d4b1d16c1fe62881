namespace Tritter.Text.Bpe;

/// <summary>
/// A byte-level BPE: token <c>i</c> of <see cref="Tokens"/> is a byte string (every single byte is one of them; a
/// trained model has them first, in byte order), and <see cref="Merges"/> lists the learned pairs in priority order, each as the two tokens it
/// joins. Ids here are local to the text range; <see cref="VocabularyLayout.TextStart"/> is added when they are
/// placed in the shared id space.
/// </summary>
/// <param name="Tokens">Each token's bytes, by local id.</param>
/// <param name="Merges">The merges in rank order, as pairs of local ids.</param>
public sealed record ByteLevelBpeModel(IReadOnlyList<byte[]> Tokens, IReadOnlyList<(int Left, int Right)> Merges);
