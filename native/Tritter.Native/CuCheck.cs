using System.Runtime.CompilerServices;

namespace Tritter.Native.Cuda;

/// <summary>Turns a driver result into an exception that names the call.</summary>
public static class CuCheck
{
    /// <summary>Throws <see cref="CudaException"/> unless <paramref name="result"/> is success; the call's text names the entry point.</summary>
    public static void Call(CuResult result, [CallerArgumentExpression(nameof(result))] string call = "")
    {
        if (result != CuResult.CUDA_SUCCESS)
            throw new CudaException(EntryPoint(call), result);
    }

    /// <summary>The entry point's name out of a call expression such as <c>CuDriver.cuInit(0)</c>.</summary>
    internal static string EntryPoint(string call)
    {
        var open = call.IndexOf('(', StringComparison.Ordinal);
        var name = open < 0 ? call : call[..open];
        var dot = name.LastIndexOf('.');
        return dot < 0 ? name : name[(dot + 1)..];
    }
}
