using System.Diagnostics;

namespace SharpVision.Tests.Weights.PyTorch;

/// <summary>
/// Debian's PyTorch + torchvision at /usr/bin/python3, used as the reference peer in cross-check tests.
/// Found once per test run; scripts run with a timeout and their stdout/stderr captured.
/// </summary>
public static class PythonPeer
{
    public const string Python = "/usr/bin/python3";

    public const string MissingReason =
        "Debian's python3-torch/python3-torchvision not found: apt-get install python3-torch python3-torchvision";

    private static readonly Lazy<bool> Found = new(() =>
    {
        if (!File.Exists(Python)) return false;
        try
        {
            return Run("import torch, torchvision", [], TimeSpan.FromSeconds(60), throwOnError: false).ExitCode == 0;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or TimeoutException)
        {
            return false;
        }
    });

    /// <summary>True when <c>import torch, torchvision</c> succeeds in /usr/bin/python3.</summary>
    public static bool Available => Found.Value;

    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    /// <summary>
    /// Runs <paramref name="script"/> (passed with <c>-c</c>) with <paramref name="args"/> as <c>sys.argv[1:]</c>.
    /// Throws when it times out (the process tree is killed) or, unless told otherwise, exits non-zero.
    /// </summary>
    public static Result Run(string script, IReadOnlyList<string> args, TimeSpan timeout, bool throwOnError = true)
    {
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        foreach (var a in args) start.ArgumentList.Add(a);
        // Debian's torch runs on one thread unless told; the machine has two cores.
        start.Environment["OMP_NUM_THREADS"] = "2";
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        using var p = Process.Start(start) ?? throw new InvalidOperationException($"could not start {Python}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"python script did not finish in {timeout.TotalSeconds} s");
        }
        p.WaitForExit();
        var result = new Result(p.ExitCode, stdout.Result, stderr.Result);
        if (throwOnError && result.ExitCode != 0)
            throw new InvalidOperationException($"python exited with {result.ExitCode}:\n{result.StdErr}\n{result.StdOut}");
        return result;
    }
}

/// <summary>A fact that runs only where Debian's PyTorch peer is installed, and says why it skips otherwise.</summary>
public sealed class PythonTorchFactAttribute : FactAttribute
{
    public PythonTorchFactAttribute()
    {
        if (!PythonPeer.Available) Skip = PythonPeer.MissingReason;
    }
}

/// <summary>A theory that runs only where Debian's PyTorch peer is installed, and says why it skips otherwise.</summary>
public sealed class PythonTorchTheoryAttribute : TheoryAttribute
{
    public PythonTorchTheoryAttribute()
    {
        if (!PythonPeer.Available) Skip = PythonPeer.MissingReason;
    }
}
