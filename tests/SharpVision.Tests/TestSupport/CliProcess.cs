using System.Diagnostics;
using System.Runtime.InteropServices;

namespace SharpVision.Tests.TestSupport;

/// <summary>
/// <c>sharpvision</c> as a real child process (the built SharpVision.Cli.dll beside the tests), for tests that
/// kill it, race two of them, or need a process of their own (file locks are per process).
/// </summary>
public static class CliProcess
{
    public const int SigInt = 2;
    public const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>Sends <paramref name="signal"/> (e.g. <see cref="SigInt"/>) to the process, as Ctrl+C or `kill` would.</summary>
    public static void Signal(Process p, int signal)
    {
        if (Kill(p.Id, signal) != 0)
            throw new InvalidOperationException($"kill({p.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [DllImport("libc", EntryPoint = "signal")]
    private static extern IntPtr SetSignalHandler(int signal, IntPtr handler);

    private static readonly Lazy<bool> SigIntRestored = new(RestoreSigIntIfIgnored);

    /// <summary>
    /// A test run started in the background (<c>nohup ... &amp;</c>, some CI runners) inherits SIGINT ignored, and a
    /// child inherits that too: the CLI then rightly never sees Ctrl+C (a program started with SIGINT ignored keeps
    /// ignoring it, as shells expect) and the signal tests see a run that simply finishes (exit 0). The test process,
    /// which stands for the user's terminal here, puts SIGINT back to its default before starting children.
    /// </summary>
    private static bool RestoreSigIntIfIgnored()
    {
        if (!OperatingSystem.IsLinux()) return false;
        string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        if (line is null) return false;
        ulong ignored = Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16);
        if ((ignored & (1UL << (SigInt - 1))) == 0) return false;
        SetSignalHandler(SigInt, IntPtr.Zero); // SIG_DFL
        return true;
    }

    /// <summary>Starts the CLI with stdout and stderr redirected (read them, or the pipes may fill).</summary>
    public static Process Start(params string[] args)
    {
        _ = SigIntRestored.Value;
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "SharpVision.Cli.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        return Process.Start(info)!;
    }

    /// <summary>Runs the CLI to its end; returns the exit code, stdout and stderr.</summary>
    public static (int Code, string Out, string Error) Run(params string[] args)
    {
        using var p = Start(args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            p.Kill();
            throw new TimeoutException($"sharpvision {string.Join(' ', args)} did not finish in 3 minutes");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>SIGKILL (no handlers, no cleanup) and wait for the process to be gone.</summary>
    public static void KillHard(Process p)
    {
        if (!p.HasExited) p.Kill();
        p.WaitForExit();
    }

    /// <summary>Waits until <paramref name="condition"/> holds, failing if the process ends or time runs out first.</summary>
    public static void WaitFor(Process p, Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (p.HasExited)
                throw new InvalidOperationException($"the process ended (exit {p.ExitCode}) before {what}");
            if (clock.Elapsed > (timeout ?? TimeSpan.FromMinutes(2)))
                throw new TimeoutException($"timed out waiting for {what}");
            Thread.Sleep(5);
        }
    }
}
