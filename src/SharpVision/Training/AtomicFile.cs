namespace SharpVision.Training;

/// <summary>
/// Writes a file so that readers only ever see the old or the new complete content: the writer fills
/// <c>path + ".tmp"</c>, which then replaces <c>path</c> in one rename. A writer that throws leaves the old file
/// untouched (and no temporary file behind).
/// </summary>
public static class AtomicFile
{
    /// <summary>Suffix of the temporary file written next to the target.</summary>
    public const string TempSuffix = ".tmp";

    /// <summary>Runs <paramref name="write"/> on a temporary path, then moves it over <paramref name="path"/>.</summary>
    /// <param name="path">The final file.</param>
    /// <param name="write">Writes the complete content to the path it is given.</param>
    public static void Write(string path, Action<string> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string? dir = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(dir))
            Directory.CreateDirectory(dir);
        string tmp = full + TempSuffix;
        try
        {
            write(tmp);
            if (!File.Exists(tmp))
                throw new IOException($"{path}: the writer did not create {tmp}.");
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            // A half-written temporary file is worthless; the old target stays as it was.
            TryDelete(tmp);
            throw;
        }
    }

    /// <summary>Writes text atomically (UTF-8).</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, tmp => File.WriteAllText(tmp, text));

    private static void TryDelete(string path)
    {
        try
        {
            if (File.Exists(path))
                File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the original exception is the one worth reporting.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
