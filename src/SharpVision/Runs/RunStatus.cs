using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using SharpVision.Weights;

namespace SharpVision.Runs;

/// <summary>What a training run is doing, as a reader of its folder should show it.</summary>
public enum RunState
{
    /// <summary>Training, in a process that is still alive.</summary>
    Running,
    /// <summary>Every epoch done, or ended early by a callback (early stopping, NaN loss): <see cref="RunStatus.Message"/> says which.</summary>
    Finished,
    /// <summary>Cancelled (Ctrl+C, SIGTERM, a cancellation token): completed epochs are kept and it can be resumed.</summary>
    Stopped,
    /// <summary>Ended by an error (the message says which), or its process vanished while it said it was running (killed, out of memory).</summary>
    Crashed,
}

/// <summary>
/// A run folder's <c>status.json</c>: the run's state, who writes it (process id, host, process start time), the epoch
/// and step it is at, its speed and memory. The trainer rewrites it atomically at every epoch and at most once a second
/// between steps (<see cref="Training.Callbacks.RunMonitor"/>), so a reader in another process, such as the dashboard,
/// sees a live run without any channel but the folder.
/// <para>
/// The rule for "crashed" vs "running" (<see cref="Effective"/>): a file that says running is believed only while its
/// writer lives, that is while a process with the recorded id exists on this host and started at the recorded time
/// (so a recycled process id does not count). A run killed with SIGKILL or by the kernel's out-of-memory killer never
/// writes again; it reads as crashed as soon as its process is gone. A file written on another host is taken as it is.
/// </para>
/// </summary>
public sealed record RunStatus
{
    /// <summary>The file's name inside a run folder.</summary>
    public const string FileName = "status.json";

    /// <summary>The <see cref="Task"/> of an image classifier's run.</summary>
    public const string Classification = "classification";
    /// <summary>The <see cref="Task"/> of a detector's run.</summary>
    public const string Detection = "detection";

    /// <summary>What the writer last said.</summary>
    public RunState State { get; init; }
    /// <summary><see cref="Classification"/> or <see cref="Detection"/>.</summary>
    public string Task { get; init; } = Classification;
    /// <summary>The writing process.</summary>
    public int Pid { get; init; }
    /// <summary>The machine it runs on.</summary>
    public string Host { get; init; } = "";
    /// <summary>When the writing process started (UTC): with <see cref="Pid"/>, tells it from a later process given the same id.</summary>
    public DateTime ProcessStart { get; init; }
    /// <summary>When this training session started (UTC).</summary>
    public DateTime Started { get; init; }
    /// <summary>When the file was last written (UTC).</summary>
    public DateTime Updated { get; init; }
    /// <summary>Epochs completed, resumed ones included.</summary>
    public int EpochsCompleted { get; init; }
    /// <summary>Epochs planned for the whole run (both fine-tune stages).</summary>
    public int Epochs { get; init; }
    /// <summary>Training steps done in the running epoch.</summary>
    public int Step { get; init; }
    /// <summary>Steps per epoch, when known.</summary>
    public int? Steps { get; init; }
    /// <summary>Training images per second in the running (or last) epoch, validation excluded.</summary>
    public double? ImagesPerSecond { get; init; }
    /// <summary>The writing process's resident memory in MiB.</summary>
    public double? MemoryMb { get; init; }
    /// <summary>Why it ended early, how it was stopped, or the error that ended it.</summary>
    public string? Message { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        WriteIndented = true,
    };

    /// <summary>A status for this process, now.</summary>
    public static RunStatus ForThisProcess(RunState state, string task)
    {
        var now = DateTime.UtcNow;
        return new RunStatus
        {
            State = state, Task = task, Pid = Environment.ProcessId, Host = Environment.MachineName,
            ProcessStart = ThisProcessStart.Value, Started = now, Updated = now, MemoryMb = ResidentMemoryMb(),
        };
    }

    private static readonly Lazy<DateTime> ThisProcessStart = new(() =>
    {
        using var self = Process.GetCurrentProcess();
        return self.StartTime.ToUniversalTime();
    });

    /// <summary>This process's resident memory in MiB.</summary>
    public static double ResidentMemoryMb() => Environment.WorkingSet / 1048576.0;

    /// <summary>Replaces <c>status.json</c> in <paramref name="runDir"/> atomically (not flushed to disk: it is rewritten every second).</summary>
    public void Write(string runDir) =>
        AtomicFile.Write(Path.Combine(runDir, FileName), tmp => File.WriteAllText(tmp, JsonSerializer.Serialize(this, Json) + "\n"), durable: false);

    /// <summary>The status in <paramref name="runDir"/>, or null when it has none (a run from before status files) or it cannot be read.</summary>
    public static RunStatus? Read(string runDir)
    {
        string path = Path.Combine(runDir, FileName);
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<RunStatus>(File.ReadAllText(path), Json) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The status to show for <paramref name="runDir"/>: its <c>status.json</c> made <see cref="Effective"/>. A folder
    /// without one (written before status files, or still loading its data) is running while the process named in its
    /// lock holder file lives, crashed when that process is gone, and finished otherwise.
    /// </summary>
    public static RunStatus Of(string runDir)
    {
        if (Read(runDir) is { } status) return status.Effective();
        var updated = Directory.Exists(runDir) ? Directory.GetLastWriteTimeUtc(runDir) : DateTime.MinValue;
        string holder = Path.Combine(runDir, RunFolder.HolderFile);
        string[] words;
        try { words = File.Exists(holder) ? File.ReadAllText(holder).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : []; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { words = []; }
        // "process PID on HOST", as RunFolder writes it.
        if (words is ["process", var id, "on", var host] && int.TryParse(id, out int pid))
        {
            bool here = host.Equals(Environment.MachineName, StringComparison.Ordinal);
            bool alive = here && ProcessExists(pid);
            return new RunStatus
            {
                State = alive || !here ? RunState.Running : RunState.Crashed, Pid = pid, Host = host, Updated = updated,
                Message = alive || !here ? null : $"process {pid} ended without releasing the run folder (killed, or out of memory)",
            };
        }
        return new RunStatus { State = RunState.Finished, Updated = updated };
    }

    private static bool ProcessExists(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>
    /// The state to show: <see cref="State"/>, except that a run which says it is running on this host but whose process is
    /// gone (or is another process with the same id) is <see cref="RunState.Crashed"/>, with a message saying so.
    /// </summary>
    public RunStatus Effective()
    {
        if (State != RunState.Running || !Host.Equals(Environment.MachineName, StringComparison.Ordinal) || IsAlive(Pid, ProcessStart))
            return this;
        return this with
        {
            State = RunState.Crashed,
            Message = $"process {Pid} ended without finishing the run (killed, or out of memory) after epoch {EpochsCompleted} of {Epochs}",
        };
    }

    /// <summary>Whether process <paramref name="pid"/> is alive and started at <paramref name="processStart"/> (to the second).</summary>
    public static bool IsAlive(int pid, DateTime processStart)
    {
        if (pid <= 0) return false;
        try
        {
            using var process = Process.GetProcessById(pid);
            if (process.HasExited) return false;
            return Math.Abs((process.StartTime.ToUniversalTime() - processStart).TotalSeconds) < 1;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false; // no such process, or one we may not look at
        }
    }
}
