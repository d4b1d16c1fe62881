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


def load_module(path):
    module = ctypes.c_void_p()
    check(cuda.cuModuleLoadData(ctypes.byref(module), ctypes.c_char_p(open(path, "rb").read() + b"\0")), "load " + path)
    return module


def get_function(module, name, shared=0):
    """The kernel `name`, allowed `shared` bytes of dynamic shared memory where that is above the 48 KiB default."""
    function = ctypes.c_void_p()
    check(cuda.cuModuleGetFunction(ctypes.byref(function), module, name.encode()), name)
    if shared > 48 * 1024:
        check(cuda.cuFuncSetAttribute(function, _MAX_DYNAMIC_SHARED, shared), "shared memory of " + name)
    return function


def launch(function, grid, block, shared, *args):
    """Launches on torch's current stream; tensors pass their device pointer, None a null pointer, ints an int."""
    values = []
    for a in args:
        if isinstance(a, torch.Tensor):
            values.append(ctypes.c_void_p(a.data_ptr()))
        elif a is None:
            values.append(ctypes.c_void_p(0))
        else:
            values.append(ctypes.c_int(a))
    params = (ctypes.c_void_p * len(values))(*[ctypes.cast(ctypes.pointer(v), ctypes.c_void_p) for v in values])
    stream = ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)
    check(cuda.cuLaunchKernel(function, grid[0], grid[1], 1, block, 1, 1, shared, stream, params, None), "launch")


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
