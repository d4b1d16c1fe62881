using Tritter.Core.Config;
using Tritter.Core.Model;
using Tritter.Core.Tensors;
using Tritter.Cpu;
using Tritter.Tests.Support;
using static Tritter.Tests.Support.HostTensors;

namespace Tritter.Tests.Model;

/// <summary>
/// The paper-scheme projection (W1.58A8): its forward pass is the float surrogate with quantised weights and
/// activations, and its gradients are that surrogate's, taken straight through both quantisers.
/// </summary>
public sealed class ProjectionTests
{
    [TestCase(7, 33, 9)]
    [TestCase(12, 64, 40)]
    public void Paper_scheme_gradients_are_those_of_the_quantised_surrogate(int rows, int inFeatures, int outFeatures)
    {
        var random = TestRandom.Create();
        using var backend = new CpuBackend();
        using var parameters = new ParameterSet(backend, random.Next());
        using var workspace = new ProjectionWorkspace(backend);
        var projection = new Projection(backend, parameters, workspace, "p", inFeatures, outFeatures, useBitnet: true, QuantizationScheme.Paper, hasBias: true);
        backend.Upload<float>(projection.Bias!.Value, TestRandom.Floats(random, outFeatures));
        using var x = Floats(backend, TestRandom.Floats(random, rows * inFeatures, 2f), [rows, inFeatures]);
        using var input = new LinearInput(backend, x, inFeatures, quantize: true);
        using var output = backend.Allocate(DType.Float32, [rows, outFeatures]);
        projection.PrepareWeights();
        input.Prepare(backend);
        projection.Forward(input, output);

        var xs = ToDouble(Read(backend, input.Dequantized!));
        var ws = ToDouble(Read(backend, projection.EffectiveWeight));
        var bias = ToDouble(Read(backend, projection.Bias.Value));
        // Exact int32 sums rescaled once in float32: 1e-5 of O(1) outputs.
        Assert.That(Read(backend, output), Is.EqualTo(Reference.Matmul(xs, ws, bias, inFeatures, outFeatures)).Within(1e-5));

        var dy = TestRandom.Floats(random, rows * outFeatures);
        using var outputGradient = Floats(backend, dy, [rows, outFeatures]);
        using var inputGradient = backend.Allocate(DType.Float32, [rows, inFeatures]);
        projection.Backward(outputGradient, input, inputGradient);
        // Straight through the activation quantiser: dx is the surrogate's gradient in its (dequantised) input; straight
        // through the weight quantiser: the shadow weights get the surrogate's gradient in its effective weights.
        double Loss(double[] xx, double[] ww, double[] bb) => GradientCheck.Weighted(Reference.Matmul(xx, ww, bb, inFeatures, outFeatures), dy);
        GradientCheck.Assert(v => Loss(v, ws, bias), xs, Read(backend, inputGradient), 1e-3, 1e-4, what: "dx");
        GradientCheck.Assert(v => Loss(xs, v, bias), ws, Read(backend, projection.Weight.Gradient), 1e-3, 1e-4, what: "dW");
        GradientCheck.Assert(v => Loss(xs, ws, v), bias, Read(backend, projection.Bias.Gradient), 1e-3, 1e-4, what: "db");
    }
}
