using Tritter.Core.Backends;
using Tritter.Core.Tensors;

namespace Tritter.Tests.Support;

/// <summary>Moving test data in and out of backend tensors.</summary>
public static class HostTensors
{
    /// <summary>A float32 tensor holding <paramref name="values"/>.</summary>
    public static Tensor Floats(ITensorStore backend, float[] values, TensorShape shape)
    {
        var tensor = backend.Allocate(DType.Float32, shape);
        backend.Upload<float>(tensor, values);
        return tensor;
    }

    /// <summary>An int32 tensor holding <paramref name="values"/>.</summary>
    public static Tensor Ints(ITensorStore backend, int[] values, TensorShape shape)
    {
        var tensor = backend.Allocate(DType.Int32, shape);
        backend.Upload<int>(tensor, values);
        return tensor;
    }

    /// <summary>The float32 contents of <paramref name="tensor"/>.</summary>
    public static float[] Read(ITensorStore backend, Tensor tensor)
    {
        var values = new float[tensor.ElementCount];
        backend.Download<float>(tensor, values);
        return values;
    }

    /// <summary>Float64 copy.</summary>
    public static double[] ToDouble(float[] values) => Array.ConvertAll(values, v => (double)v);
}
