using SharpVision.Evaluation;
using SharpVision.Imaging.Video;
using SharpVision.Runs;

namespace SharpVision.Cli;

/// <summary>How <c>predict</c> and <c>detect predict</c> tell a video run from an image run, and where a video run writes.</summary>
public static class VideoInput
{
    /// <summary>
    /// The video source: <paramref name="source"/> (--source), or PATH when it is one video file; null for images.
    /// <paramref name="videoOnlyFlag"/> names a flag the user gave that only applies to a video (an error for images).
    /// </summary>
    public static string? Choose(IReadOnlyList<string> paths, string? source, string? videoOnlyFlag)
    {
        if (source is not null)
        {
            if (paths.Count > 0)
                throw new SharpVisionException($"give PATH or --source, not both. Received: PATH {string.Join(" ", paths)} and --source {source}");
            return source;
        }
        var videos = paths.Where(p => File.Exists(p) && VideoFiles.IsVideo(p)).ToList();
        if (videos.Count == 1 && paths.Count == 1) return videos[0];
        if (videos.Count > 0)
            throw new InvalidOptionException("PATH", "image files and folders, or exactly one video", string.Join(" ", paths));
        if (videoOnlyFlag is not null)
            throw new SharpVisionException($"{videoOnlyFlag} applies to a video (PATH clip.mp4 or --source); the inputs are images.");
        return null;
    }

    /// <summary>
    /// The annotated video and the JSON-lines file: <paramref name="outArg"/> = FILE.jsonl gives only the JSON lines; FILE with a video extension gives that
    /// video and <paramref name="jsonName"/> beside it; a folder (default runs/<paramref name="kind"/>/expN) gives
    /// &lt;source stem&gt;.mp4 and <paramref name="jsonName"/> in it.
    /// </summary>
    public static VideoOptions Outputs(string source, string? outArg, string kind, string jsonName)
    {
        if (outArg is not null && outArg.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
            return new VideoOptions { JsonLines = outArg };
        if (outArg is not null && VideoFiles.IsVideo(outArg))
            return new VideoOptions { Output = outArg, JsonLines = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outArg))!, jsonName) };
        if (outArg is not null && Path.HasExtension(outArg) && !Directory.Exists(outArg))
            throw new InvalidOptionException("--out", $"a folder, a .jsonl file or a video file ({string.Join(", ", VideoFiles.Extensions)}) for a video input", outArg);
        string folder = outArg ?? RunFolder.NextExperiment(Path.Combine("runs", kind));
        return new VideoOptions { Output = Path.Combine(folder, Stem(source) + ".mp4"), JsonLines = Path.Combine(folder, jsonName) };
    }

    /// <summary>--source-format, which only makes sense with --source.</summary>
    public static string? Format(string? format, string? source) =>
        format is not null && source is null ? throw new SharpVisionException("--source-format applies to --source (a camera or stream); a video file's format is read from the file.") : format;

    /// <summary>Prints where the results are; exit code 0, or 128 + the signal when Ctrl+C/SIGTERM stopped a camera or stream (its files are complete).</summary>
    public static int Saved(VideoRunResult run)
    {
        Console.WriteLine(run.VideoPath is null ? $"Results saved to {run.JsonLinesPath}" : $"Results saved to {run.VideoPath} and {run.JsonLinesPath}");
        return run.Stopped ? Interrupts.ExitCode : 0;
    }

    // clip.mp4 -> clip; /dev/video0 -> video0; rtsp://host/cam1 -> cam1 (or "stream").
    private static string Stem(string source)
    {
        string name = Path.GetFileNameWithoutExtension(source.TrimEnd('/'));
        return name.Length == 0 || name.Contains(':') ? "stream" : name;
    }
}
