"""What the anchor scripts share: PTX kernels launched through the CUDA driver API (ctypes) on PyTorch tensors, and
CUDA-event timing of back-to-back launches. Imported by the scripts beside it."""
import ctypes
import statistics

import torch

cuda = ctypes.CDLL("libcuda.so.1")
torch.zeros(1, device="cuda")  # makes the primary context current, so driver calls below use torch's context

# CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
_MAX_DYNAMIC_SHARED = 8


def check(result, what="CUDA driver call"):
    if result != 0:
        raise RuntimeError(f"{what}: CUresult {result}")


# CUjit_option: the JIT's info and error logs (buffers and their sizes), and verbose info (registers, spills)
_JIT_INFO_LOG, _JIT_INFO_LOG_SIZE, _JIT_ERROR_LOG, _JIT_ERROR_LOG_SIZE, _JIT_LOG_VERBOSE = 3, 4, 5, 6, 12
_LOG_BYTES = 1 << 16


def load_module(path, logs=None):
    """The module of the PTX at `path`. With a dict `logs`, the driver's JIT reports land in logs["info"] (verbose:
    each kernel's registers and spills) and logs["error"], and a failed load raises with the error log."""
    module = ctypes.c_void_p()
    image = ctypes.c_char_p(open(path, "rb").read() + b"\0")
    if logs is None:
        check(cuda.cuModuleLoadData(ctypes.byref(module), image), "load " + path)
        return module
    info, error = ctypes.create_string_buffer(_LOG_BYTES), ctypes.create_string_buffer(_LOG_BYTES)
    options = (ctypes.c_int * 5)(_JIT_INFO_LOG, _JIT_INFO_LOG_SIZE, _JIT_ERROR_LOG, _JIT_ERROR_LOG_SIZE, _JIT_LOG_VERBOSE)
    values = (ctypes.c_void_p * 5)(ctypes.cast(info, ctypes.c_void_p), _LOG_BYTES, ctypes.cast(error, ctypes.c_void_p), _LOG_BYTES, 1)
    result = cuda.cuModuleLoadDataEx(ctypes.byref(module), image, 5, options, values)
    logs["info"], logs["error"] = info.value.decode(errors="replace"), error.value.decode(errors="replace")
    if result != 0:
        raise RuntimeError(f"load {path}: CUresult {result}\n{logs['error']}")
    return module


def get_function(module, name, shared=0):
    """The kernel `name`, allowed `shared` bytes of dynamic shared memory where that is above the 48 KiB default."""
    function = ctypes.c_void_p()
    check(cuda.cuModuleGetFunction(ctypes.byref(function), module, name.encode()), name)
    if shared > 48 * 1024:
        check(cuda.cuFuncSetAttribute(function, _MAX_DYNAMIC_SHARED, shared), "shared memory of " + name)
    return function


def prepared(function, grid, block, shared, *args):
    """A launch with its arguments packed once, to call many times: then a call is one cuLaunchKernel, so that Python
    does not hold back back-to-back launches of kernels of tens of microseconds. Tensors pass their device pointer,
    None a null pointer, ints an int; it launches on torch's current stream at the time of the call."""
    values = []
    for a in args:
        if isinstance(a, torch.Tensor):
            values.append(ctypes.c_void_p(a.data_ptr()))
        elif a is None:
            values.append(ctypes.c_void_p(0))
        else:
            values.append(ctypes.c_int(a))
    params = (ctypes.c_void_p * len(values))(*[ctypes.cast(ctypes.pointer(v), ctypes.c_void_p) for v in values])

    def call():
        stream = ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)
        check(cuda.cuLaunchKernel(function, grid[0], grid[1], 1, block, 1, 1, shared, stream, params, None), "launch")

    call.keep = values  # the arguments params points at
    return call


def launch(function, grid, block, shared, *args):
    """Launches once on torch's current stream (as prepared)."""
    prepared(function, grid, block, shared, *args)()


def timed_ms(fn, launches=20, repeats=7):
    """Median over `repeats` of the CUDA-event time of `launches` back-to-back calls, per call, after 3 warm-up calls."""
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    samples = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(launches):
            fn()
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end) / launches)
    return statistics.median(samples)
