using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Core.Model;

/// <summary>Allocates parameters with their gradients, initialises them from one seeded generator, and owns them.</summary>
internal sealed class ParameterSet(IBackend backend, int seed) : IDisposable
{
    private readonly List<NamedParameter> _parameters = [];
    private readonly Random _random = new(seed);

    public IReadOnlyList<NamedParameter> Parameters => _parameters;

    /// <summary>Uniform in [-bound, bound): Kaiming-uniform with a = sqrt(5) gives bound = 1/sqrt(fan_in), as nn.Linear.</summary>
    public NamedParameter Uniform(string name, TensorShape shape, double bound, bool decay) =>
        Add(name, shape, decay, values =>
        {
            for (var i = 0; i < values.Length; i++)
                values[i] = (float)((_random.NextDouble() * 2 - 1) * bound);
        });

    /// <summary>Standard normal (as nn.Embedding), with row 0 (padding) zero.</summary>
    public NamedParameter Embedding(string name, int vocab, int width) =>
        Add(name, [vocab, width], decay: true, values =>
        {
            for (var i = width; i < values.Length; i++)
                values[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble()));
        });

    /// <summary>Every element <paramref name="value"/>.</summary>
    public NamedParameter Constant(string name, TensorShape shape, float value, bool decay) =>
        Add(name, shape, decay, values => values.AsSpan().Fill(value));

    private NamedParameter Add(string name, TensorShape shape, bool decay, Action<float[]> initialise)
    {
        var values = new float[shape.ElementCount];
        initialise(values);
        var value = backend.Allocate(DType.Float32, shape);
        backend.Upload<float>(value, values);
        var gradient = backend.Allocate(DType.Float32, shape);
        backend.Fill(gradient, 0);
        var parameter = new NamedParameter(name, value, gradient, decay);
        _parameters.Add(parameter);
        return parameter;
    }

    public void Dispose()
    {
        foreach (var p in _parameters)
        {
            p.Value.Dispose();
            p.Gradient.Dispose();
        }
        _parameters.Clear();
    }
}
