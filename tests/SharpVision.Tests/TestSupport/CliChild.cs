using System.Diagnostics;
using System.Text.RegularExpressions;

namespace SharpVision.Tests.TestSupport;

/// <summary>
/// A <c>sharpvision</c> child process (<see cref="CliProcess.Start"/>) whose stdout and stderr lines are collected as they
/// come, for tests that act while it runs: wait for a line, signal it, then wait for its exit.
/// </summary>
public sealed class CliChild : IDisposable
{
    private readonly List<string> _lines = [];

    public CliChild(params string[] args)
    {
        Process = CliProcess.Start(args);
        Process.OutputDataReceived += (_, e) => Add(e.Data);
        Process.ErrorDataReceived += (_, e) => Add(e.Data);
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    public Process Process { get; }

    /// <summary>The lines so far, stdout and stderr interleaved as they arrived.</summary>
    public List<string> Lines
    {
        get { lock (_lines) return [.. _lines]; }
    }

    /// <summary>Everything so far, for failure messages.</summary>
    public string Output => string.Join(Environment.NewLine, Lines);

    private void Add(string? line)
    {
        if (line is null) return;
        lock (_lines) _lines.Add(line);
    }

    /// <summary>The first line matching <paramref name="pattern"/>; fails when the process ends or time runs out first.</summary>
    public Match WaitFor(Regex pattern, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < (timeout ?? TimeSpan.FromMinutes(1)))
        {
            if (Lines.Select(l => pattern.Match(l)).FirstOrDefault(m => m.Success) is { } match) return match;
            if (Process.HasExited && !Lines.Any(pattern.IsMatch)) break;
            Thread.Sleep(20);
        }
        throw new TimeoutException($"no line like {pattern} from sharpvision:\n{Output}");
    }

    /// <summary>Waits for the exit (and the last output lines); kills it and fails after <paramref name="seconds"/>.</summary>
    public int WaitForExit(double seconds = 180)
    {
        if (!Process.WaitForExit(TimeSpan.FromSeconds(seconds)))
        {
            Process.Kill();
            throw new TimeoutException($"still running {seconds} s later:\n{Output}");
        }
        Process.WaitForExit();
        return Process.ExitCode;
    }

    public void Dispose()
    {
        if (!Process.HasExited) CliProcess.KillHard(Process);
        Process.Dispose();
    }
}
