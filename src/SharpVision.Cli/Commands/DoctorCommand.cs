using System.CommandLine;
using SharpVision.Diagnostics;
using SharpVision.Models;
using SharpVision.Platform;

namespace SharpVision.Cli.Commands;

/// <summary>
/// <c>sharpvision doctor [--numerics [--models a,b]]</c>: versions, the machine as libtorch sees it, the workarounds in
/// force and a self-test (<see cref="Doctor"/>); exit 1 when a check fails. <c>--numerics</c> adds the float64
/// comparison of every convolution shape of the model zoo (<see cref="ConvolutionCheck"/>).
/// </summary>
public static class DoctorCommand
{
    public static Command Create()
    {
        var command = new Command("doctor", """
            Versions, CPU, workarounds in force, and a 10-second self-test.
            Prints versions, CPU, ISA, cache sizes as CPUID reports them, threads, CUDA, plot font and the oneDNN
            workarounds in force, then runs a self-test (convolution numerics, one resnet50 and one YOLO training step,
            an ONNX round trip; about 10 s). Exits 1 when a check fails.
            """);
        var numericsOption = Flags.Switch("--numerics", "also compare every convolution of the model zoo (forward, input and weight gradients) with a float64 reference; spatial sizes capped at --max-side");
        var modelsOption = Flags.Text("--models", "the networks --numerics collects shapes from (default: all of them)", "NAME,...");
        var maxSideOption = Flags.Int("--max-side", "--numerics: the largest spatial size checked", 32, 4, 1024);
        command.Add(numericsOption);
        command.Add(modelsOption);
        command.Add(maxSideOption);
        command.SetAction(parse => Run(parse.GetValue(numericsOption), parse.GetValue(modelsOption), parse.GetValue(maxSideOption)));
        return command;
    }

    private static int Run(bool numerics, string? models, int maxSide)
    {
        var modelNames = models?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
        foreach (string name in modelNames ?? [])
            if (!ConvolutionCheck.ZooModels.Contains(name))
                throw new InvalidOptionException("--models", "a comma-separated list of " + string.Join(", ", ConvolutionCheck.ZooModels), name);

        foreach (var (name, value) in Doctor.Environment())
            Console.WriteLine($"{name + ":",-18}{value}");
        if (TorchRuntime.Note.Length > 0)
            Console.WriteLine($"{"why:",-18}{TorchRuntime.Note}");
        Console.WriteLine();

        bool passed = true;
        foreach (var check in Doctor.SelfTest())
        {
            Console.WriteLine($"{(check.Passed ? "ok  " : "FAIL")} {check.Name} ({check.Duration.TotalSeconds:F1} s): {check.Detail}");
            passed &= check.Passed;
        }
        if (numerics) passed &= Numerics(modelNames, maxSide);
        Console.WriteLine(passed ? "doctor: all checks passed" : "doctor: a check FAILED (see above)");
        return passed ? 0 : 1;
    }

    private static bool Numerics(IReadOnlyList<string>? models, int maxSide)
    {
        var shapes = ConvolutionCheck.ZooShapes(models, maxSide);
        Console.WriteLine();
        Console.WriteLine($"convolution numerics: {shapes.Count} shapes (sizes capped at {maxSide}), float32 vs float64, tolerance {ConvolutionCheck.Tolerance:g}");
        int failed = 0;
        double worst = 0;
        foreach (var (shape, users) in shapes.OrderBy(p => p.Key.InChannels).ThenBy(p => p.Key.OutChannels))
        {
            var result = ConvolutionCheck.Check(shape);
            worst = Math.Max(worst, new[] { result.OutputError, result.InputGradientError, result.WeightGradientError }.Max());
            if (result.Passed) continue;
            failed++;
            Console.WriteLine($"FAIL {Doctor.Describe(result)} (in {string.Join(", ", users)})");
        }
        Console.WriteLine(failed == 0
            ? $"ok   all {shapes.Count} shapes within tolerance (worst relative error {worst:E1})"
            : $"FAIL {failed} of {shapes.Count} shapes");
        return failed == 0;
    }
}
