using Tritter.Inference.Sampling;

namespace Tritter.Tests.Inference;

/// <summary>Stop sequences over a stream, against the naive definition: cut the stream before the first complete match.</summary>
public sealed class StopMatcherTests
{
    [TestCase("hello world", new[] { "wor" }, "hello ", true)]
    [TestCase("abcabd", new[] { "abd" }, "abc", true)]
    [TestCase("aab", new[] { "ab", "b" }, "a", true)]
    [TestCase("no match here", new[] { "xyz", "hex" }, "no match here", false)]
    [TestCase("ends with a prefix wo", new[] { "wor" }, "ends with a prefix wo", false)]
    public void Releases_everything_before_the_first_stop_and_holds_back_possible_starts(string stream, string[] stops, string expected, bool stopped)
    {
        var matcher = new StopMatcher<char>(stops.Select(s => (IReadOnlyList<char>)s.ToCharArray()));
        var released = new List<char>();
        foreach (var c in stream)
        {
            released.AddRange(matcher.Push(c));
            if (matcher.Stopped)
                break;
        }
        if (!matcher.Stopped)
            released.AddRange(matcher.Flush());
        Assert.That(new string([.. released]), Is.EqualTo(expected));
        Assert.That(matcher.Stopped, Is.EqualTo(stopped));
    }

    [Test]
    public void Token_ids_are_held_back_only_while_they_may_start_a_stop()
    {
        var matcher = new StopMatcher<int>([[7, 8, 9]]);
        Assert.That(matcher.Push(1), Is.EqualTo(new[] { 1 }));
        Assert.That(matcher.Push(7), Is.Empty);
        Assert.That(matcher.Push(8), Is.Empty);
        Assert.That(matcher.Push(2), Is.EqualTo(new[] { 7, 8, 2 }));
        Assert.That(matcher.Push(7), Is.Empty);
        Assert.That(matcher.Push(8), Is.Empty);
        Assert.That(matcher.Push(9), Is.Empty);
        Assert.That(matcher.Stopped, Is.True);
        Assert.That(() => matcher.Push(3), Throws.InvalidOperationException);
    }
}
