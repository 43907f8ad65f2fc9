using System.Runtime.InteropServices;
using SharpVision.Training;

namespace SharpVision.Cli;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM as a <see cref="CancellationToken"/> for the commands that run long loops (train,
/// detect train, evaluate, predict, lr-find, features): the first signal cancels <see cref="Token"/> and the
/// library stops between two steps; a second signal gets the runtime's default handling, which ends the process at
/// once. Exit codes follow the shell's 128 + signal number: 130 after SIGINT, 143 after SIGTERM.
/// </summary>
public static class Interrupts
{
    private static readonly CancellationTokenSource Source = new();
    private static readonly List<PosixSignalRegistration> Registrations = [];
    private static int _received; // 0, or the first signal's number (2 SIGINT, 15 SIGTERM)
    private static string _command = "";

    /// <summary>Cancelled by the first SIGINT or SIGTERM once <see cref="Listen"/> ran.</summary>
    public static CancellationToken Token => Source.Token;

    /// <summary>Exit code of a command stopped by a signal: 128 + the signal's number.</summary>
    public static int ExitCode => 128 + (Volatile.Read(ref _received) is 0 ? 2 : Volatile.Read(ref _received));

    /// <summary>The signal's name, for messages.</summary>
    public static string SignalName => Volatile.Read(ref _received) == 15 ? "SIGTERM" : "SIGINT (Ctrl+C)";

    /// <summary>Whether a signal has been received.</summary>
    public static bool Received => Volatile.Read(ref _received) != 0;

    /// <summary>Whether <paramref name="command"/> ("train", "detect train") stops cleanly on <see cref="Token"/>.</summary>
    public static bool Cancellable(string command) =>
        command is "train" or "evaluate" or "predict" or "detect predict" or "lr-find" or "features" or "detect train" or "dashboard";

    /// <summary>Maps SIGINT and SIGTERM to <see cref="Token"/> (call once, before the command runs).</summary>
    public static void Listen(string command)
    {
        _command = command;
        Registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle));
        Registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle));
    }

    private static void Handle(PosixSignalContext context)
    {
        int number = context.Signal == PosixSignal.SIGTERM ? 15 : 2;
        if (Interlocked.CompareExchange(ref _received, number, 0) != 0)
            return; // the second signal: default handling (the process ends now)
        context.Cancel = true;
        Console.Error.WriteLine();
        // The dashboard has no step to finish: the signal is simply how it is closed.
        Console.Error.WriteLine(_command == "dashboard" ? $"{SignalName}: stopping the dashboard."
            : $"{SignalName}: stopping after the current step; press Ctrl+C again to quit at once.");
        Source.Cancel();
    }

    /// <summary>
    /// What the user reads after a command stopped on <see cref="Token"/>: where it stopped, what was kept and,
    /// for training, the command that resumes the run.
    /// </summary>
    public static string Describe(OperationCanceledException stop, string command)
    {
        bool trains = command is "train" or "detect train";
        if (stop is not TrainingCanceledException training)
            return trains ? $"Interrupted by {SignalName} before training began; the run folder's files are as they were."
                          : $"Interrupted by {SignalName}: {command} {stop.Message}; no output was written.";
        var lines = new List<string>
        {
            $"Interrupted by {SignalName} in epoch {training.Epoch + 1} after {training.Steps} step(s); {training.EpochsCompleted} epoch(s) complete.",
        };
        string? saved = training.SavedFiles.FirstOrDefault();
        // The interrupted checkpoint is RUN/weights/interrupted.svmodel: its run folder is two levels up.
        string? run = saved is null ? null : Path.GetDirectoryName(Path.GetDirectoryName(saved));
        if (saved is not null) lines.Add($"Current weights saved to {saved}.");
        if (run is not null && File.Exists(Path.Combine(run, "weights", "last" + Weights.ModelFile.Extension)))
            lines.Add($"Resume with: sharpvision {command} --resume {Relative(run)}");
        else if (run is not null)
            lines.Add($"No epoch finished, so there is nothing to resume: run the command again (add --exist-ok to reuse {Relative(run)}).");
        return string.Join(Environment.NewLine, lines);
    }

    private static string Relative(string path)
    {
        string relative = Path.GetRelativePath(Environment.CurrentDirectory, path);
        string shown = relative.StartsWith("..", StringComparison.Ordinal) ? path : relative;
        return shown.Contains(' ') ? $"\"{shown}\"" : shown;
    }
}
