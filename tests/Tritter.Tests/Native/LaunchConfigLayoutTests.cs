using System.Runtime.InteropServices;
using Tritter.Native.Cuda;

namespace Tritter.Tests.Native;

/// <summary>The <c>cuLaunchKernelEx</c> structures match <c>cuda.h</c> (CUDA 12) on 64-bit hosts.</summary>
public sealed class LaunchConfigLayoutTests
{
    [Test]
    public void Launch_config_has_the_headers_offsets()
    {
        Assert.That(Marshal.SizeOf<CuLaunchConfig>(), Is.EqualTo(56));
        Assert.That(Offset<CuLaunchConfig>(nameof(CuLaunchConfig.SharedMemoryBytes)), Is.EqualTo(24));
        Assert.That(Offset<CuLaunchConfig>(nameof(CuLaunchConfig.Stream)), Is.EqualTo(32));
        Assert.That(Offset<CuLaunchConfig>(nameof(CuLaunchConfig.Attributes)), Is.EqualTo(40));
        Assert.That(Offset<CuLaunchConfig>(nameof(CuLaunchConfig.AttributeCount)), Is.EqualTo(48));
    }

    [Test]
    public unsafe void Launch_attribute_is_an_id_padding_and_a_64_byte_value()
    {
        Assert.That(sizeof(CuLaunchAttribute), Is.EqualTo(72));
        Assert.That(Offset<CuLaunchAttribute>(nameof(CuLaunchAttribute.Value)), Is.EqualTo(8));
        Assert.That((int)CuLaunchAttributeId.ProgrammaticStreamSerialization, Is.EqualTo(6));
    }

    private static int Offset<T>(string field) => (int)Marshal.OffsetOf<T>(field);
}
