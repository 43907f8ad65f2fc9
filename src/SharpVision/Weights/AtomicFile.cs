namespace SharpVision.Weights;

/// <summary>
/// Writes a file so that a reader (or a crash) only ever sees the old complete file or the new complete file:
/// the content goes to a temporary file in the same folder, is flushed, then renamed over the target.
/// </summary>
public static class AtomicFile
{
    /// <param name="path">The file to replace.</param>
    /// <param name="writeTo">Writes the content to the temporary path it is given.</param>
    /// <param name="durable">
    /// Flush the content to disk before the rename (checkpoints, results). A file rewritten every second whose loss in a
    /// power cut costs nothing (a run's status heartbeat) passes false: readers still never see it half-written.
    /// </param>
    public static void Write(string path, Action<string> writeTo, bool durable = true)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string tmp = $"{full}.{Environment.ProcessId}.tmp";
        try
        {
            writeTo(tmp);
            if (durable)
                using (var fs = new FileStream(tmp, FileMode.Open, FileAccess.ReadWrite))
                    fs.Flush(flushToDisk: true);
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { }
            throw;
        }
    }

    public static void WriteAllText(string path, string text) => Write(path, tmp => File.WriteAllText(tmp, text));
}
