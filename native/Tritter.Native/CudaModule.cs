using System.Text;

namespace Tritter.Native.Cuda;

/// <summary>A module loaded from PTX text, JIT-compiled by the driver for the current device.</summary>
public sealed class CudaModule : IDisposable
{
    private const int LogBytes = 16 * 1024;
    private readonly Dictionary<string, CudaFunction> _functions = new(StringComparer.Ordinal);
    private IntPtr _handle;

    private CudaModule(IntPtr handle, string name, string jitInfoLog)
    {
        _handle = handle;
        Name = name;
        JitInfoLog = jitInfoLog;
    }

    /// <summary>The name the module was loaded under (its source file).</summary>
    public string Name { get; }

    /// <summary>What the JIT compiler reported while compiling (registers, spills), possibly empty.</summary>
    public string JitInfoLog { get; }

    /// <summary>
    /// JIT-compiles <paramref name="ptx"/> in the current context. On failure the <see cref="CudaException"/> carries the
    /// JIT compiler's error log, which says what line of the PTX it rejected.
    /// </summary>
    public static unsafe CudaModule LoadPtx(string ptx, string name)
    {
        var image = new byte[Encoding.UTF8.GetByteCount(ptx) + 1]; // the driver reads PTX up to a NUL
        Encoding.UTF8.GetBytes(ptx, image);
        var errorLog = new byte[LogBytes];
        var infoLog = new byte[LogBytes];
        fixed (byte* imagePointer = image, errorPointer = errorLog, infoPointer = infoLog)
        {
            var options = stackalloc CuJitOption[]
            {
                CuJitOption.ErrorLogBuffer, CuJitOption.ErrorLogBufferSizeBytes,
                CuJitOption.InfoLogBuffer, CuJitOption.InfoLogBufferSizeBytes, CuJitOption.LogVerbose,
            };
            var values = stackalloc void*[] { errorPointer, (void*)LogBytes, infoPointer, (void*)LogBytes, (void*)1 };
            var result = CuDriver.cuModuleLoadDataEx(out var handle, imagePointer, 5, options, values);
            if (result != CuResult.CUDA_SUCCESS)
                throw new CudaException("cuModuleLoadDataEx", result, $"module {name}: {CString(errorLog)}");
            return new CudaModule(handle, name, CString(infoLog));
        }
    }

    /// <summary>The <c>extern "C"</c> kernel <paramref name="name"/>, looked up once and cached.</summary>
    public CudaFunction Function(string name)
    {
        ObjectDisposedException.ThrowIf(_handle == IntPtr.Zero, this);
        if (_functions.TryGetValue(name, out var function))
            return function;
        var result = CuDriver.cuModuleGetFunction(out var handle, _handle, name);
        if (result != CuResult.CUDA_SUCCESS)
            throw new CudaException("cuModuleGetFunction", result, $"kernel {name} in module {Name}");
        function = new CudaFunction(handle, name);
        _functions.Add(name, function);
        return function;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_handle == IntPtr.Zero)
            return;
        CuDriver.cuModuleUnload(_handle);
        _handle = IntPtr.Zero;
    }

    private static string CString(byte[] buffer)
    {
        var length = Array.IndexOf(buffer, (byte)0);
        return Encoding.UTF8.GetString(buffer, 0, length < 0 ? buffer.Length : length).Trim();
    }
}
