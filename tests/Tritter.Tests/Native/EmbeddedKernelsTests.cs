using Tritter.Cuda;

namespace Tritter.Tests.Native;

/// <summary>Which embedded PTX build a device loads, chosen from resource names alone (no device needed).</summary>
public sealed class EmbeddedKernelsTests
{
    private static readonly string[] BothTargets =
        ["ptx/rope.ptx", "ptx/rope.compute_90.ptx", "ptx/loss.compute_90.ptx", "ptx/loss.ptx", "ptx/adamw.ptx", "Tritter.Cuda.Strings.resources"];

    [TestCase(8, 0, "rope", "compute_80", "ptx/rope.ptx")]
    [TestCase(8, 9, "rope", "compute_80", "ptx/rope.ptx")]
    [TestCase(9, 0, "rope", "compute_90", "ptx/rope.compute_90.ptx")]
    [TestCase(12, 0, "loss", "compute_90", "ptx/loss.compute_90.ptx")]
    [TestCase(9, 0, "adamw", "compute_80", "ptx/adamw.ptx")]
    public void A_device_loads_the_highest_target_it_runs(int major, int minor, string module, string target, string resource)
    {
        var variant = EmbeddedKernels.Choose(BothTargets, module, (major, minor));
        Assert.That(variant.Module, Is.EqualTo(module));
        Assert.That(variant.Target, Is.EqualTo(target));
        Assert.That(variant.ResourceName, Is.EqualTo(resource));
        Assert.That(variant.SupportsProgrammaticLaunch, Is.EqualTo(target == "compute_90"));
    }

    [TestCase(8, 0)]
    [TestCase(9, 0)]
    [TestCase(10, 3)]
    public void With_only_compute_80_embedded_every_device_loads_it(int major, int minor)
    {
        var variant = EmbeddedKernels.Choose(["ptx/embedding.ptx", "ptx/sqrelu.ptx"], "sqrelu", (major, minor));
        Assert.That(variant.Target, Is.EqualTo("compute_80"));
        Assert.That(variant.ResourceName, Is.EqualTo("ptx/sqrelu.ptx"));
        Assert.That(variant.SupportsProgrammaticLaunch, Is.False);
    }

    [TestCase(8, 6, "compute_86")]
    [TestCase(9, 0, "compute_90")]
    [TestCase(10, 0, "compute_100")]
    [TestCase(12, 1, "compute_120")]
    public void Targets_compare_as_numbers_not_text(int major, int minor, string target)
    {
        string[] names = ["ptx/matmul.compute_120.ptx", "ptx/matmul.compute_100.ptx", "ptx/matmul.ptx", "ptx/matmul.compute_86.ptx", "ptx/matmul.compute_90.ptx"];
        Assert.That(EmbeddedKernels.Choose(names, "matmul", (major, minor)).Target, Is.EqualTo(target));
    }

    [TestCase(9, 0, "compute_90a", "ptx/gemm.compute_90a.ptx")]
    [TestCase(10, 0, "compute_90", "ptx/gemm.compute_90.ptx")]
    [TestCase(12, 0, "compute_90", "ptx/gemm.compute_90.ptx")]
    [TestCase(8, 9, "compute_80", "ptx/gemm.ptx")]
    public void An_architecture_specific_build_is_loaded_by_its_own_architecture_alone(int major, int minor, string target, string resource)
    {
        string[] names = ["ptx/gemm.compute_90a.ptx", "ptx/gemm.ptx", "ptx/gemm.compute_90.ptx"];
        var variant = EmbeddedKernels.Choose(names, "gemm", (major, minor));
        Assert.That(variant.Target, Is.EqualTo(target));
        Assert.That(variant.ResourceName, Is.EqualTo(resource));
        Assert.That(variant.ArchitectureSpecific, Is.EqualTo(target.EndsWith('a')));
    }

    [TestCase(8, 0)]
    [TestCase(10, 0)]
    [TestCase(12, 0)]
    public void A_module_built_only_for_sm_90a_runs_nowhere_else(int major, int minor)
    {
        string[] names = ["ptx/matmul_bf16_sm90a.compute_90a.ptx", "ptx/rope.ptx"];
        var error = Assert.Throws<InvalidOperationException>(() => EmbeddedKernels.Choose(names, "matmul_bf16_sm90a", (major, minor)))!;
        Assert.That(error.Message, Does.Contain("compute_90a only").And.Contain($"compute capability {major}.{minor}"));
        Assert.That(EmbeddedKernels.Choose(names, "matmul_bf16_sm90a", (9, 0)).Target, Is.EqualTo("compute_90a"));
    }

    [Test]
    public void This_builds_sm_90a_module_runs_on_compute_capability_9_0_only()
    {
        if (!EmbeddedKernels.ModuleNames.Contains("matmul_bf16_sm90a"))
            Assert.Ignore("this build embeds no PTX (nvcc was not found)");
        Assert.That(EmbeddedKernels.Targets, Does.Contain("compute_90a"));
        Assert.That(EmbeddedKernels.RunsOn("matmul_bf16_sm90a", (9, 0)), Is.True);
        Assert.That(EmbeddedKernels.RunsOn("matmul_bf16_sm90a", (12, 0)), Is.False);
        Assert.That(EmbeddedKernels.RunsOn("matmul_bf16_sm90a", (8, 0)), Is.False);
        Assert.That(EmbeddedKernels.RunsOn("matmul_bf16", (12, 0)), Is.True);
    }

    [Test]
    public void A_device_below_every_target_is_told_which_targets_exist()
    {
        string[] names = ["ptx/hold.ptx", "ptx/hold.compute_90.ptx"];
        var error = Assert.Throws<InvalidOperationException>(() => EmbeddedKernels.Choose(names, "hold", (7, 5)))!;
        Assert.That(error.Message, Does.Contain("'hold'").And.Contain("compute_80, compute_90").And.Contain("compute capability 7.5"));
    }

    [Test]
    public void A_missing_module_lists_the_embedded_ones_without_targets()
    {
        var error = Assert.Throws<InvalidOperationException>(() => EmbeddedKernels.Choose(BothTargets, "attention", (9, 0)))!;
        Assert.That(error.Message, Does.Contain("'attention'").And.Contain("embedded: adamw, loss, rope)"));
    }

    [Test]
    public void No_embedded_modules_says_how_to_get_them()
    {
        var error = Assert.Throws<InvalidOperationException>(() => EmbeddedKernels.Choose(["Tritter.Cuda.Strings.resources"], "rope", (9, 0)))!;
        Assert.That(error.Message, Does.Contain("none; build with nvcc on PATH"));
    }

    [Test]
    public void This_builds_module_names_carry_no_target_and_its_targets_start_at_compute_80()
    {
        Assert.That(EmbeddedKernels.ModuleNames, Has.None.Contain("."));
        if (EmbeddedKernels.ModuleNames.Count == 0)
            Assert.Ignore("this build embeds no PTX (nvcc was not found)");
        Assert.That(EmbeddedKernels.Targets[0], Is.EqualTo("compute_80"));
        Assert.That(EmbeddedKernels.Targets, Is.Unique);
        TestContext.Out.WriteLine(string.Join(", ", EmbeddedKernels.Targets));
    }
}
