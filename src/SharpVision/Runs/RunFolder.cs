namespace SharpVision.Runs;

/// <summary>
/// A training run's folder (<c>runs/train/expN</c> by default): args.yaml, classes.txt, weights/best and last
/// (and weights/interrupted after a cancelled run), results.csv, curves.png, status.json and system.csv
/// (<see cref="RunStatus"/>). While a run writes it, the folder is
/// locked (an OS file lock on <c>.lock</c>, so a killed run leaves no stale lock behind).
/// </summary>
public sealed class RunFolder : IDisposable
{
    /// <summary>Beside <c>.lock</c>: who holds it ("process PID on HOST"), for the message a refused run prints.</summary>
    internal const string HolderFile = ".lock.holder";

    private readonly FileStream _lock;

    private RunFolder(string path, FileStream lockStream)
    {
        Path = path;
        _lock = lockStream;
    }

    public string Path { get; }
    public string WeightsDir => System.IO.Path.Combine(Path, "weights");
    public string BestModel => System.IO.Path.Combine(WeightsDir, "best" + Weights.ModelFile.Extension);
    public string LastModel => System.IO.Path.Combine(WeightsDir, "last" + Weights.ModelFile.Extension);
    /// <summary>The weights at the moment training was cancelled (Ctrl+C): mid-epoch, so <c>--resume</c> uses last.</summary>
    public string InterruptedModel => System.IO.Path.Combine(WeightsDir, InterruptedName + Weights.ModelFile.Extension);

    /// <summary>File name (without extension) of <see cref="InterruptedModel"/>.</summary>
    public const string InterruptedName = "interrupted";
    public string ResultsCsv => System.IO.Path.Combine(Path, "results.csv");
    public string CurvesPng => System.IO.Path.Combine(Path, "curves.png");
    public string ArgsYaml => System.IO.Path.Combine(Path, "args.yaml");
    public string ClassesTxt => System.IO.Path.Combine(Path, "classes.txt");

    /// <summary>The next free <c>root/expN</c> (exp, exp2, exp3, ... like Ultralytics).</summary>
    public static string NextExperiment(string root)
    {
        for (int n = 1; ; n++)
        {
            string candidate = System.IO.Path.Combine(root, n == 1 ? "exp" : $"exp{n}");
            if (!Directory.Exists(candidate) || !Directory.EnumerateFileSystemEntries(candidate).Any())
                return candidate;
        }
    }

    /// <summary>
    /// Opens <paramref name="path"/> for writing. A non-empty folder is refused unless <paramref name="existOk"/>
    /// or <paramref name="resume"/>; a folder locked by a live run is always refused.
    /// </summary>
    public static RunFolder Open(string path, bool existOk = false, bool resume = false)
    {
        string full = System.IO.Path.GetFullPath(path);
        if (File.Exists(full))
            throw new InvalidOptionException("RunFolder.Out", "a folder", $"{path} (a file)");
        bool nonEmpty = Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any(e => System.IO.Path.GetFileName(e) is not (".lock" or HolderFile));
        if (nonEmpty && !existOk && !resume)
            throw new SharpVisionException($"RunFolder.Out {path} already holds a run. Pass RunFolder.ExistOk to write into it anyway, RunResume.Resume {path} to continue it, or choose another RunFolder.Out.");
        Directory.CreateDirectory(full);
        Directory.CreateDirectory(System.IO.Path.Combine(full, "weights"));
        FileStream lockStream;
        try
        {
            lockStream = new FileStream(System.IO.Path.Combine(full, ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new SharpVisionException($"RunFolder.Out {path} is in use by another training run ({Holder(full)} holds {System.IO.Path.Combine(path, ".lock")}). Wait for it to finish or choose another RunFolder.Out.");
        }
        lockStream.SetLength(0);
        var pid = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString());
        lockStream.Write(pid);
        lockStream.Flush();
        try { File.WriteAllText(System.IO.Path.Combine(full, HolderFile), $"process {Environment.ProcessId} on {Environment.MachineName}\n"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // only used to name the holder
        RemoveStaleTemporaryFiles(full);
        return new RunFolder(full, lockStream);
    }

    /// <summary>
    /// Who holds the lock, as its holder wrote it into <see cref="HolderFile"/> ("process 1234 on host"); the locked
    /// file itself cannot be read by another process (.NET takes a shared lock to read it).
    /// </summary>
    private static string Holder(string full)
    {
        try
        {
            string text = File.ReadAllText(System.IO.Path.Combine(full, HolderFile)).Trim();
            return text.Length > 0 ? text : "another process";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "another process";
        }
    }

    /// <summary>
    /// Deletes what a killed <see cref="Weights.AtomicFile"/> writer left (<c>NAME.PID.tmp</c>): with the lock held,
    /// no live process of ours is writing here, so these are half-written leftovers, never the current files.
    /// </summary>
    private static void RemoveStaleTemporaryFiles(string full)
    {
        foreach (string dir in new[] { full, System.IO.Path.Combine(full, "weights") })
            foreach (string tmp in Directory.EnumerateFiles(dir, "*.tmp"))
            {
                string pid = System.IO.Path.GetExtension(System.IO.Path.GetFileNameWithoutExtension(tmp)).TrimStart('.');
                if (pid.Length > 0 && pid.All(char.IsAsciiDigit))
                    try { File.Delete(tmp); } catch (IOException) { }
            }
    }

    /// <summary>
    /// A status this process left saying running means training ended by an error outside the fit loop (between
    /// fine-tune stages, say), which the loop's own status writer never saw: the folder must not read as running while
    /// a long-lived host process (an app that caught the error) is still alive.
    /// </summary>
    private void MarkUnfinishedAsCrashed()
    {
        if (RunStatus.Read(Path) is not { State: RunState.Running } status || status.Pid != Environment.ProcessId) return;
        try
        {
            (status with { State = RunState.Crashed, Updated = DateTime.UtcNow, Message = "training ended by an error before its status was written" }).Write(Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>The model file to use when a command is given a run folder: weights/best (else weights/last).</summary>
    public static string ResolveModelPath(string modelOrRun)
    {
        if (!Directory.Exists(modelOrRun))
            return modelOrRun;
        string weights = System.IO.Path.Combine(modelOrRun, "weights");
        foreach (string name in new[] { "best", "last" })
        {
            string candidate = System.IO.Path.Combine(weights, name + Weights.ModelFile.Extension);
            if (File.Exists(candidate)) return candidate;
        }
        throw new ModelFileException($"{modelOrRun} is a folder but has no weights/best{Weights.ModelFile.Extension} or weights/last{Weights.ModelFile.Extension}.");
    }

    public void Dispose()
    {
        MarkUnfinishedAsCrashed();
        try { File.Delete(System.IO.Path.Combine(Path, HolderFile)); } catch (IOException) { }
        _lock.Dispose();
        try { File.Delete(System.IO.Path.Combine(Path, ".lock")); } catch (IOException) { }
    }
}
