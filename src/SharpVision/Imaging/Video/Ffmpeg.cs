using System.Diagnostics;
using System.Text;

namespace SharpVision.Imaging.Video;

/// <summary>
/// Finds and starts the system's <c>ffmpeg</c> and <c>ffprobe</c> (Debian's <c>ffmpeg</c> package; any build on PATH
/// works): SharpVision links no video codec, it talks to ffmpeg as a child process over pipes (raw frames in and
/// out), so every container, codec, camera and stream ffmpeg reads is available, and ffmpeg's licence stays its own.
/// <c>SHARPVISION_FFMPEG</c> may name the ffmpeg executable (ffprobe is then looked for beside it).
/// </summary>
public static class Ffmpeg
{
    /// <summary>The hint every "not found" error gives.</summary>
    public const string InstallHint = "install ffmpeg (Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg; Windows: put ffmpeg.exe on PATH) or set SHARPVISION_FFMPEG to its path";

    /// <summary>The ffmpeg executable, or null when there is none.</summary>
    public static string? FindFfmpeg() =>
        Environment.GetEnvironmentVariable("SHARPVISION_FFMPEG") is { Length: > 0 } given ? (File.Exists(given) ? given : null) : OnPath("ffmpeg");

    /// <summary>The ffprobe executable (beside ffmpeg first), or null when there is none.</summary>
    public static string? FindFfprobe()
    {
        if (FindFfmpeg() is { } ffmpeg && Path.GetDirectoryName(ffmpeg) is { Length: > 0 } dir)
        {
            string beside = Path.Combine(dir, OperatingSystem.IsWindows() ? "ffprobe.exe" : "ffprobe");
            if (File.Exists(beside)) return beside;
        }
        return OnPath("ffprobe");
    }

    /// <summary>ffmpeg's path; a <see cref="VideoException"/> saying how to install it when absent.</summary>
    public static string RequireFfmpeg(string what) =>
        FindFfmpeg() ?? throw new VideoException($"{what} needs ffmpeg, which was not found on PATH: {InstallHint}.");

    /// <summary>Starts <paramref name="exe"/> with its standard streams redirected (stdin only when asked); stderr is collected by <see cref="ErrorTail"/>.</summary>
    internal static Process Start(string exe, IEnumerable<string> arguments, bool stdin, out StringBuilder stderr)
    {
        var info = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        var log = new StringBuilder();
        var process = new Process { StartInfo = info };
        // stderr must be drained as it comes, or a chatty ffmpeg blocks on a full pipe.
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (log)
            {
                if (log.Length < 16_384) log.AppendLine(e.Data);
            }
        };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            process.Dispose();
            throw new VideoException($"cannot start {exe}: {e.Message}", e);
        }
        process.BeginErrorReadLine();
        stderr = log;
        return process;
    }

    /// <summary>The last lines ffmpeg wrote to stderr, for an error message.</summary>
    internal static string ErrorTail(StringBuilder stderr)
    {
        string text;
        lock (stderr) text = stderr.ToString().Trim();
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "no message" : string.Join(" | ", lines.TakeLast(3));
    }

    private static string? OnPath(string name)
    {
        string file = OperatingSystem.IsWindows() ? name + ".exe" : name;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, file);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}

/// <summary>A video could not be read or written (ffmpeg missing, an unreadable source, an encoder failure).</summary>
public sealed class VideoException(string message, Exception? inner = null) : SharpVisionException(message, inner);

/// <summary>Which files are videos (by extension): what <c>predict</c> and <c>detect predict</c> send to ffmpeg instead of the image decoder.</summary>
public static class VideoFiles
{
    /// <summary>Video file extensions, lower case with the dot.</summary>
    public static readonly IReadOnlyList<string> Extensions =
        [".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".ts", ".3gp", ".ogv"];

    /// <summary>Whether <paramref name="path"/> has a video extension.</summary>
    public static bool IsVideo(string path) => Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());
}
