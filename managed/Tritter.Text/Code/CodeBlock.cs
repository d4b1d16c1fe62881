namespace Tritter.Text.Code;

/// <summary>A function- or class-level block of a source file, as a character range of the file's text.</summary>
/// <param name="Start">First character, at the start of a line (leading comments and decorators included).</param>
/// <param name="Length">Characters, through the end of the block's last line.</param>
/// <param name="Kind">What the block is: "class", "function", "type", "namespace" or "block".</param>
public readonly record struct CodeBlock(int Start, int Length, string Kind)
{
    /// <summary>One past the last character.</summary>
    public int End => Start + Length;
}
