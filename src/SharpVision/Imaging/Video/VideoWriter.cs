using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace SharpVision.Imaging.Video;

/// <summary>
/// Encodes frames into a video file through an <c>ffmpeg</c> child process (raw RGB on its stdin). The container
/// follows the file's extension; .mp4, .mov, .m4v and .mkv get H.264 (libx264 when ffmpeg has it, else ffmpeg's
/// default) in yuv420p, padded to even sides, which every player reads. The file is written under a temporary name
/// beside the target and renamed on <see cref="Finish"/>: an interrupted run never leaves half a video under the
/// real name. Every frame takes the first frame's size (a later frame of another size is resized to it).
/// </summary>
public sealed class VideoWriter : IDisposable
{
    private static readonly string[] H264Containers = [".mp4", ".mov", ".m4v", ".mkv"];

    private readonly Process _process;
    private readonly StringBuilder _stderr;
    private readonly Stream _stdin;
    private readonly string _temp;
    private bool _finished;

    /// <summary>Starts ffmpeg to write <paramref name="path"/> at <paramref name="frameRate"/> (a number or a ratio like <c>30000/1001</c>).</summary>
    /// <exception cref="VideoException">ffmpeg is missing or does not start.</exception>
    public VideoWriter(string path, int width, int height, string frameRate)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (VideoReader.ParseRate(frameRate) is null)
            throw new ArgumentException($"{nameof(frameRate)} must be a positive number or ratio. Received: {frameRate}", nameof(frameRate));
        string ffmpeg = Ffmpeg.RequireFfmpeg($"writing the video {path}");
        Path = path;
        Width = width;
        Height = height;
        string full = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        string ext = System.IO.Path.GetExtension(full);
        _temp = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(full)!, $".{System.IO.Path.GetFileNameWithoutExtension(full)}.{Environment.ProcessId}.tmp{ext}");
        var args = new List<string>
        {
            "-nostdin", "-hide_banner", "-v", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", $"{width}x{height}", "-framerate", frameRate, "-i", "pipe:0",
        };
        if (H264Containers.Contains(ext.ToLowerInvariant()))
        {
            args.AddRange(["-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-pix_fmt", "yuv420p"]);
            if (HasLibx264(ffmpeg)) args.AddRange(["-c:v", "libx264", "-preset", "veryfast", "-crf", "23"]);
        }
        args.Add(_temp);
        _process = Ffmpeg.Start(ffmpeg, args, stdin: true, out _stderr);
        _stdin = _process.StandardInput.BaseStream;
    }

    /// <summary>The video being written (it appears under this name on <see cref="Finish"/>).</summary>
    public string Path { get; }
    /// <summary>Frame width in pixels.</summary>
    public int Width { get; }
    /// <summary>Frame height in pixels.</summary>
    public int Height { get; }
    /// <summary>Frames written so far.</summary>
    public long Frames { get; private set; }

    /// <summary>Appends a frame.</summary>
    /// <exception cref="VideoException">ffmpeg stopped (its message is included).</exception>
    public void Write(RgbImage frame)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        if (frame.Width != Width || frame.Height != Height) frame = Resizer.Resize(frame, Width, Height, Interpolation.Bilinear);
        try
        {
            _stdin.Write(frame.Pixels, 0, Width * Height * 3);
        }
        catch (IOException e)
        {
            _process.WaitForExit(5000);
            throw new VideoException($"ffmpeg stopped writing {Path}: {Ffmpeg.ErrorTail(_stderr)}", e);
        }
        Frames++;
    }

    /// <summary>Closes the stream, waits for ffmpeg and moves the finished file to <see cref="Path"/>.</summary>
    /// <exception cref="VideoException">ffmpeg failed (its message is included); the temporary file is removed.</exception>
    public void Finish()
    {
        if (_finished) return;
        _finished = true;
        try
        {
            _stdin.Dispose();
        }
        catch (IOException)
        {
            // ffmpeg already gone: its exit code says why
        }
        _process.WaitForExit();
        if (_process.ExitCode != 0)
        {
            TryDelete(_temp);
            throw new VideoException($"ffmpeg could not write {Path} (exit code {_process.ExitCode}): {Ffmpeg.ErrorTail(_stderr)}");
        }
        File.Move(_temp, Path, overwrite: true);
    }

    /// <summary>Stops ffmpeg without finishing: the temporary file is removed and <see cref="Path"/> is left as it was.</summary>
    public void Dispose()
    {
        if (!_finished)
        {
            _finished = true;
            try
            {
                if (!_process.HasExited) _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
                // already gone
            }
            TryDelete(_temp);
        }
        _process.Dispose();
    }

    private static readonly Dictionary<string, bool> Encoders = new(StringComparer.Ordinal);

    private static bool HasLibx264(string ffmpeg)
    {
        lock (Encoders)
        {
            if (Encoders.TryGetValue(ffmpeg, out bool known)) return known;
            using var p = Ffmpeg.Start(ffmpeg, ["-hide_banner", "-encoders"], stdin: false, out _);
            string list = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            bool has = list.Contains(" libx264 ", StringComparison.Ordinal);
            Encoders[ffmpeg] = has;
            return has;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>A frame rate as ffmpeg's text, e.g. 29.97 -> "29.97".</summary>
    public static string RateText(double framesPerSecond) => framesPerSecond.ToString("0.######", CultureInfo.InvariantCulture);
}
