namespace Tritter.Cpu.Ops;

/// <summary>Length checks shared by the span-level ops.</summary>
internal static class SpanChecks
{
    /// <summary>Throws unless <paramref name="actual"/> equals <paramref name="expected"/>.</summary>
    public static void Length(int expected, int actual, string name)
    {
        if (expected != actual)
            throw new ArgumentException($"{name} has {actual} elements, expected {expected}", name);
    }

    /// <summary>Rows of <paramref name="columns"/> in a span of <paramref name="length"/>; throws if they do not fill it.</summary>
    public static int Rows(int length, int columns, string name)
    {
        if (columns <= 0 || length % columns != 0)
            throw new ArgumentException($"{name} ({length} elements) is not a whole number of rows of {columns}", name);
        return length / columns;
    }

    /// <summary>Width of each of <paramref name="rows"/> equal rows filling <paramref name="length"/>; throws if they do not.</summary>
    public static int Width(int length, int rows, string name)
    {
        if (rows <= 0 || length % rows != 0)
            throw new ArgumentException($"{name} ({length} elements) does not split into {rows} equal rows", name);
        return length / rows;
    }
}
