namespace Tritter.Text;

/// <summary>One encoded document: its ids, and for code the token positions where function/class blocks start.</summary>
/// <param name="Ids">The ids, opened and closed by the modality's markers.</param>
/// <param name="BlockStarts">Index into <paramref name="Ids"/> of each block's first token, ascending; empty for non-code.</param>
public sealed record EncodedDocument(int[] Ids, int[] BlockStarts);
