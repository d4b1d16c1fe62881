// Tritter's build: kernels -> PTX, build, test, bench, bundle.
//   dotnet tool restore && dotnet cake --target=Test
// Arguments:
//   --configuration=Release|Debug   (default Release)
//   --cuda-arch=compute_80,compute_90
//                                   PTX targets for nvcc, comma-separated, compute_80 first (default both). compute_80
//                                   (kernels/ptx/NAME.ptx) JIT-compiles on SM_80..SM_120; each further target XY becomes
//                                   NAME.compute_XY.ptx, which a device of compute capability X.Y or above loads instead
//                                   (compute_90 compiles in griddepcontrol for programmatic dependent launch).
//                                   kernels/*_sm90a.cu are Hopper-only (wgmma): built once, for compute_90, and retargeted
//                                   to sm_90a as NAME.compute_90a.ptx, which only compute capability 9.0 loads
//   --require-kernels               fail when nvcc is missing instead of building without GPU kernels (always on for Bundle,
//                                   which exists to run on a GPU box)
//   --test-filter=EXPR              passed to the test program's --filter
//   --bench-args="..."              passed to the bench program (e.g. "--filter *SquaredRelu* --quick")

var target = Argument("target", "Test");
var configuration = Argument("configuration", "Release");
var cudaArchs = Argument("cuda-arch", "compute_80,compute_90").Split(',', StringSplitOptions.RemoveEmptyEntries);
var requireKernels = HasArgument("require-kernels") || target == "Bundle";
var testFilter = Argument("test-filter", "");
var benchArgs = Argument("bench-args", "");

var root = MakeAbsolute(Directory("."));
var ptxDir = root.Combine("kernels/ptx");
var artifacts = root.Combine("artifacts");
const string Runtime = "linux-x64";

FilePath FindNvcc()
{
    var candidates = new List<FilePath>();
    var cudaHome = EnvironmentVariable("CUDA_HOME") ?? EnvironmentVariable("CUDA_PATH");
    if (!string.IsNullOrEmpty(cudaHome)) candidates.Add(Directory(cudaHome).Path.CombineWithFilePath("bin/nvcc"));
    candidates.Add(new FilePath("/usr/local/cuda/bin/nvcc"));
    foreach (var dir in (EnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        candidates.Add(Directory(dir).Path.CombineWithFilePath("nvcc"));
    return candidates.FirstOrDefault(FileExists);
}

// nvcc 11.8 (Debian) rejects the system's GCC 12 as host compiler; clang-14 works. Newer toolkits use the default.
string HostCompilerFlag()
{
    foreach (var dir in (EnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        if (FileExists(Directory(dir).Path.CombineWithFilePath("clang-14"))) return "-ccbin clang-14 ";
    return "";
}

int Run(FilePath tool, string arguments, out string output)
{
    var exit = StartProcess(tool, new ProcessSettings { Arguments = arguments, RedirectStandardOutput = true, RedirectStandardError = true }, out var stdout, out var stderr);
    output = string.Join("\n", stdout.Concat(stderr));
    return exit;
}

// nvcc before 12 knows no compute_90a, but `nvcc -ptx` stops before ptxas and passes inline asm through verbatim, so
// compute_90 PTX whose wgmma is inline asm needs only its header changed: `.target sm_90a`, which wgmma requires, and
// at least `.version 8.0`, the first PTX ISA with wgmma.
string RetargetToSm90a(string ptx, string source)
{
    var lines = ptx.Split('\n');
    int Find(string prefix) =>
        lines.Select((line, i) => (line, i)).Where(p => p.line.StartsWith(prefix, StringComparison.Ordinal)).Select(p => p.i).DefaultIfEmpty(-1).Single();
    var (target, version) = (Find(".target "), Find(".version "));
    if (target < 0 || lines[target].Trim() != ".target sm_90" || version < 0)
        throw new Exception($"{source}: expected PTX headed `.version X.Y` and `.target sm_90`, found {(target < 0 ? "no .target" : lines[target].Trim())}");
    lines[target] = ".target sm_90a";
    if (Version.Parse(lines[version][".version ".Length..].Trim()) < new Version(8, 0)) lines[version] = ".version 8.0";
    return string.Join("\n", lines);
}

// The major release of ptxas ("Cuda compilation tools, release 11.8, ..."), 0 where it cannot be read.
int PtxasVersion(FilePath ptxas)
{
    if (!FileExists(ptxas) || Run(ptxas, "--version", out var text) != 0) return 0;
    var match = System.Text.RegularExpressions.Regex.Match(text, @"release (\d+)\.");
    return match.Success ? int.Parse(match.Groups[1].Value) : 0;
}

Task("Kernels")
    .Description("Compiles every kernels/*.cu to PTX (kernels/ptx/) for each --cuda-arch, then checks registers and spills with ptxas.")
    .Does(() =>
{
    // EmbeddedKernels reads the unsuffixed PTX as compute_80; another first target would be loaded on devices it cannot run on.
    if (cudaArchs.Length == 0 || cudaArchs[0] != "compute_80")
        throw new Exception($"--cuda-arch={string.Join(",", cudaArchs)}: the first target must be compute_80 (add others after it)");
    var nvcc = FindNvcc();
    CleanDirectory(ptxDir);
    if (nvcc == null)
    {
        var message = "nvcc not found (PATH, CUDA_HOME, /usr/local/cuda): building without GPU kernels; the CUDA backend will report it.";
        if (requireKernels) throw new Exception(message + " (--require-kernels)");
        Warning(message);
        return;
    }
    var ptxas = nvcc.GetDirectory().CombineWithFilePath("ptxas");
    var hostCompiler = HostCompilerFlag();
    foreach (var source in GetFiles(root.FullPath + "/kernels/*.cu").OrderBy(f => f.FullPath))
    {
        var hopperOnly = source.GetFilenameWithoutExtension().ToString().EndsWith("_sm90a", StringComparison.Ordinal);
        foreach (var arch in hopperOnly ? new[] { "compute_90a" } : cudaArchs)
        {
            var suffix = arch == cudaArchs[0] ? "" : "." + arch;
            var ptx = ptxDir.CombineWithFilePath(source.GetFilenameWithoutExtension() + suffix + ".ptx");
            var exit = Run(nvcc, $"{hostCompiler}-ptx -arch={arch.TrimEnd('a')} -O3 -std=c++17 -lineinfo -I{root.Combine("kernels").FullPath} -o {ptx.FullPath} {source.FullPath}", out var log);
            if (exit != 0) throw new Exception($"nvcc failed on {source.GetFilename()} for {arch}:\n{log}");
            if (hopperOnly) System.IO.File.WriteAllText(ptx.FullPath, RetargetToSm90a(System.IO.File.ReadAllText(ptx.FullPath), source.GetFilename().ToString()));
            var sm = arch.Replace("compute_", "sm_");
            if (hopperOnly && PtxasVersion(ptxas) < 12)
                Information($"{source.GetFilename()} -> {ptx.GetFilename()} ({sm}: not assembled here, this ptxas predates sm_90a; the driver's JIT checks it)");
            else if (FileExists(ptxas) && Run(ptxas, $"-v -arch={sm} -o /dev/null {ptx.FullPath}", out var report) == 0)
            {
                var spills = report.Split('\n').Where(l => l.Contains("spill") && !l.Contains(" 0 bytes spill stores, 0 bytes spill loads")).ToList();
                Information($"{source.GetFilename()} -> {ptx.GetFilename()} ({sm}: {report.Split('\n').Count(l => l.Contains("Compiling entry"))} kernels{(spills.Count > 0 ? ", SPILLS: " + string.Join("; ", spills.Select(s => s.Trim())) : ", no spills")})");
            }
            else
            {
                Information($"{source.GetFilename()} -> {ptx.GetFilename()}");
            }
        }
    }
});

Task("Build")
    .Description("Builds the solution with the PTX embedded.")
    .IsDependentOn("Kernels")
    .Does(() =>
{
    DotNetBuild(root.CombineWithFilePath("Tritter.sln").FullPath, new DotNetBuildSettings { Configuration = configuration });
});

Task("Test")
    .Description("Runs the test program; GPU tests report skipped where no device exists.")
    .IsDependentOn("Build")
    .Does(() =>
{
    var args = new ProcessArgumentBuilder()
        .Append("test").Append("--project").AppendQuoted("tests/Tritter.Tests")
        .Append("--configuration").Append(configuration).Append("--no-build");
    if (!string.IsNullOrEmpty(testFilter)) args.Append("--filter").AppendQuoted(testFilter);
    var exit = StartProcess("dotnet", new ProcessSettings { Arguments = args, WorkingDirectory = root });
    if (exit != 0) throw new Exception($"tests failed (exit code {exit})");
});

Task("Bench")
    .Description("Runs the BenchmarkDotNet suites; --bench-args selects suites.")
    .IsDependentOn("Build")
    .Does(() =>
{
    var exit = StartProcess("dotnet", new ProcessSettings
    {
        Arguments = $"run --project bench/Tritter.Bench --configuration {configuration} --no-build -- {benchArgs}",
        WorkingDirectory = root,
    });
    if (exit != 0) throw new Exception($"bench failed (exit code {exit})");
});

Task("Bundle")
    .Description("Publishes the tests, the bench and the CLI self-contained for linux-x64, with bench/results, into artifacts/tritter-bundle.tar.xz.")
    .IsDependentOn("Kernels")
    .Does(() =>
{
    var stage = artifacts.Combine("bundle/tritter");
    CleanDirectory(stage);
    foreach (var project in new[] { "tests/Tritter.Tests", "bench/Tritter.Bench", "managed/Tritter.Cli" })
    {
        DotNetPublish(project, new DotNetPublishSettings
        {
            Configuration = configuration,
            Runtime = Runtime,
            SelfContained = true,
            OutputDirectory = stage,
        });
    }
    CopyFile(root.CombineWithFilePath("scripts/bundle/run-gpu-tests.sh"), stage.CombineWithFilePath("run-gpu-tests.sh"));
    CopyFile(root.CombineWithFilePath("scripts/bundle/run-gpu-bench.sh"), stage.CombineWithFilePath("run-gpu-bench.sh"));
    CopyFile(root.CombineWithFilePath("scripts/bundle/run-gpu-all.sh"), stage.CombineWithFilePath("run-gpu-all.sh"));
    // The PyTorch peers run-gpu-all.sh measures in the same call as the suites.
    CopyDirectory(root.Combine("bench/anchors"), stage.Combine("anchors"));
    DeleteDirectories(GetDirectories(stage.FullPath + "/anchors/**/__pycache__"), new DeleteDirectorySettings { Recursive = true });
    // Earlier runs travel with the bundle, so a run on the device compares itself with the last run on the same device.
    CopyDirectory(root.Combine("bench/results"), stage.Combine("results"));
    StartProcess("git", new ProcessSettings { Arguments = "rev-parse HEAD", RedirectStandardOutput = true, WorkingDirectory = root }, out var commit);
    System.IO.File.WriteAllText(stage.CombineWithFilePath("COMMIT").FullPath, string.Join("", commit) + "\n");
    var archive = artifacts.CombineWithFilePath("tritter-bundle.tar.xz");
    var exit = StartProcess("tar", new ProcessSettings { Arguments = $"-cJf {archive.FullPath} -C {artifacts.Combine("bundle").FullPath} tritter" });
    if (exit != 0) throw new Exception("tar failed");
    Information($"bundle: {archive.FullPath} ({new System.IO.FileInfo(archive.FullPath).Length / (1 << 20)} MiB)");
});

RunTarget(target);
