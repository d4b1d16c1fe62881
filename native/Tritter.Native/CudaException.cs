namespace Tritter.Native.Cuda;

/// <summary>A CUDA driver API call that did not return <c>CUDA_SUCCESS</c>; the message names the call and the result.</summary>
public sealed class CudaException : Exception
{
    /// <summary>Creates the exception for a failed call.</summary>
    public CudaException(string call, CuResult result, string? detail = null)
        : base(FormatMessage(call, result, detail))
    {
        Call = call;
        Result = result;
    }

    /// <summary>Creates the exception with a message only (for serializers and analyzers).</summary>
    public CudaException() : this("unknown", CuResult.CUDA_ERROR_UNKNOWN) { }

    /// <summary>Creates the exception with a message only (for serializers and analyzers).</summary>
    public CudaException(string message) : base(message) { Call = "unknown"; }

    /// <summary>Creates the exception with a message and cause.</summary>
    public CudaException(string message, Exception innerException) : base(message, innerException) { Call = "unknown"; }

    /// <summary>The driver entry point that failed, e.g. <c>cuModuleLoadDataEx</c>.</summary>
    public string Call { get; }

    /// <summary>The driver's result code.</summary>
    public CuResult Result { get; }

    private static string FormatMessage(string call, CuResult result, string? detail)
    {
        var name = Enum.IsDefined(result) ? result.ToString() : $"CUresult {(int)result}";
        return string.IsNullOrWhiteSpace(detail) ? $"{call} failed: {name}" : $"{call} failed: {name}\n{detail.TrimEnd()}";
    }
}
