using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace SharpVision.Imaging.Video;

/// <summary>One decoded frame: its position in the source (0-based), its time in seconds and its pixels.</summary>
public sealed record VideoFrame(long Index, double Time, RgbImage Image);

/// <summary>
/// Reads the frames of a video file, a camera (<c>/dev/video0</c>) or any input ffmpeg opens (<c>rtsp://</c>,
/// <c>http://</c>, a named pipe) through an <c>ffmpeg</c> child process: ffmpeg decodes (rotation applied, every
/// frame passed through once: <c>-vsync 0</c>) and writes binary PPM images on its stdout, whose headers carry each
/// frame's size, so a stream that changes resolution is read correctly. A background thread parses the pipe a few
/// frames ahead of the caller, so ffmpeg's decoding overlaps the caller's inference.
/// Frame rate and frame count come from <c>ffprobe</c> when it can tell (a file); a live source has no count.
/// </summary>
public sealed class VideoReader : IDisposable
{
    /// <summary>Frame rate assumed when ffprobe cannot tell (a camera without the information, a raw stream).</summary>
    public const double DefaultFramesPerSecond = 25;

    private readonly Process _process;
    private readonly StringBuilder _stderr;
    private readonly Channel<RgbImage> _frames = Channel.CreateBounded<RgbImage>(new BoundedChannelOptions(4) { SingleReader = true, SingleWriter = true });
    private readonly Thread _pump;
    private Exception? _pumpError;
    private bool _disposed;

    private VideoReader(string source, string ffmpeg, string? inputFormat, VideoProbe probe)
    {
        Source = source;
        FrameRate = probe.FrameRate ?? DefaultFramesPerSecond.ToString(CultureInfo.InvariantCulture);
        FramesPerSecond = ParseRate(FrameRate) ?? DefaultFramesPerSecond;
        FrameCount = probe.FrameCount;
        var args = new List<string> { "-nostdin", "-hide_banner", "-v", "error" };
        if (inputFormat is not null) args.AddRange(["-f", inputFormat]);
        args.AddRange(["-i", source, "-map", "0:v:0", "-vsync", "0", "-f", "image2pipe", "-c:v", "ppm", "-pix_fmt", "rgb24", "pipe:1"]);
        _process = Ffmpeg.Start(ffmpeg, args, stdin: false, out _stderr);
        _pump = new Thread(Pump) { IsBackground = true, Name = "video frames" };
        _pump.Start();
    }

    /// <summary>What was opened (a path, a device or a URL).</summary>
    public string Source { get; }

    /// <summary>The source's frame rate as ffprobe gives it (<c>"30000/1001"</c>), or the default's text when unknown.</summary>
    public string FrameRate { get; }

    /// <summary><see cref="FrameRate"/> as a number.</summary>
    public double FramesPerSecond { get; }

    /// <summary>Frames in the source when known (a file whose container records it), else null.</summary>
    public long? FrameCount { get; }

    /// <summary>
    /// Opens <paramref name="source"/>: an existing file, a <c>/dev/video*</c> camera (read with ffmpeg's v4l2 input),
    /// or any URL ffmpeg takes. <paramref name="inputFormat"/> forces ffmpeg's input format (its <c>-f</c>).
    /// </summary>
    /// <exception cref="VideoException">ffmpeg is missing, or the source does not exist or has no video stream.</exception>
    public static VideoReader Open(string source, string? inputFormat = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        string ffmpeg = Ffmpeg.RequireFfmpeg($"reading the video {source}");
        bool device = source.StartsWith("/dev/", StringComparison.Ordinal);
        bool url = source.Contains("://", StringComparison.Ordinal);
        if (inputFormat is null && !url && !File.Exists(source) && !(device && Path.Exists(source)))
            throw new VideoException($"{source} does not exist (a video file, a camera such as /dev/video0, or a URL ffmpeg can open).");
        if (inputFormat is null && device && OperatingSystem.IsLinux() && source.StartsWith("/dev/video", StringComparison.Ordinal))
            inputFormat = "v4l2";
        var probe = VideoProbe.Run(source, inputFormat);
        if (probe.Error is { } error)
            throw new VideoException($"cannot read the video {source}: {error}");
        return new VideoReader(source, ffmpeg, inputFormat, probe);
    }

    /// <summary>
    /// The frames in order, each with its index and time (index / frames per second). Ends with the source (or when
    /// <paramref name="cancellationToken"/> fires: no exception, the frames so far stay valid). A source ffmpeg cannot
    /// decode at all throws <see cref="VideoException"/> with ffmpeg's message; one that breaks off after some frames
    /// (a truncated file) ends there and sets <see cref="Warning"/>.
    /// </summary>
    public IEnumerable<VideoFrame> Frames(CancellationToken cancellationToken = default)
    {
        long index = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            RgbImage image;
            try
            {
                if (!_frames.Reader.WaitToReadAsync(cancellationToken).AsTask().GetAwaiter().GetResult()) break;
                if (!_frames.Reader.TryRead(out image!)) continue;
            }
            catch (OperationCanceledException)
            {
                break;
            }
            yield return new VideoFrame(index, index / FramesPerSecond, image);
            index++;
        }
        if (cancellationToken.IsCancellationRequested) yield break;
        _process.WaitForExit();
        if (_pumpError is not null || _process.ExitCode != 0)
        {
            string reason = _pumpError?.Message ?? $"ffmpeg exited with code {_process.ExitCode}: {Ffmpeg.ErrorTail(_stderr)}";
            if (index == 0) throw new VideoException($"cannot decode the video {Source}: {reason}", _pumpError);
            Warning = $"{Source}: decoding stopped after {index} frames ({reason})";
        }
    }

    /// <summary>Set when decoding broke off after some frames were read (why, in words).</summary>
    public string? Warning { get; private set; }

    // Background thread: PPM images off ffmpeg's stdout into the bounded channel (it blocks when the caller lags).
    private void Pump()
    {
        try
        {
            var stream = new BufferedStream(_process.StandardOutput.BaseStream, 1 << 20);
            while (ReadPpm(stream) is { } image)
            {
                if (!_frames.Writer.WaitToWriteAsync().AsTask().GetAwaiter().GetResult()) return;
                _frames.Writer.TryWrite(image);
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ObjectDisposedException)
        {
            if (!_disposed) _pumpError = e;
        }
        finally
        {
            _frames.Writer.TryComplete();
        }
    }

    /// <summary>One binary PPM (<c>P6 W H 255</c>, then W*H*3 bytes) from <paramref name="stream"/>; null at a clean end of stream.</summary>
    internal static RgbImage? ReadPpm(Stream stream)
    {
        string? magic = Token(stream);
        if (magic is null) return null;
        if (magic != "P6") throw new InvalidDataException($"ffmpeg's frame pipe gave '{magic}', not a P6 (binary PPM) header");
        int width = int.Parse(Token(stream) ?? "", CultureInfo.InvariantCulture);
        int height = int.Parse(Token(stream) ?? "", CultureInfo.InvariantCulture);
        int max = int.Parse(Token(stream) ?? "", CultureInfo.InvariantCulture);
        if (width < 1 || height < 1 || max != 255)
            throw new InvalidDataException($"ffmpeg's frame pipe gave a {width}x{height} PPM with maximum {max} (expected 8-bit RGB)");
        var pixels = new byte[checked(width * height * 3)];
        stream.ReadExactly(pixels);
        return new RgbImage(width, height, pixels);
    }

    // The header's whitespace-separated fields; exactly one whitespace byte follows the last (maximum value).
    private static string? Token(Stream stream)
    {
        var sb = new StringBuilder();
        while (true)
        {
            int b = stream.ReadByte();
            if (b < 0) return sb.Length == 0 ? null : throw new InvalidDataException("ffmpeg's frame pipe ended inside a PPM header");
            if (b == '#' && sb.Length == 0)
            {
                while (b >= 0 && b != '\n') b = stream.ReadByte();
                continue;
            }
            if (char.IsWhiteSpace((char)b))
            {
                if (sb.Length > 0) return sb.ToString();
                continue;
            }
            if (sb.Length > 16) throw new InvalidDataException("ffmpeg's frame pipe gave a malformed PPM header");
            sb.Append((char)b);
        }
    }

    internal static double? ParseRate(string? rate)
    {
        if (string.IsNullOrEmpty(rate)) return null;
        var parts = rate.Split('/');
        if (!double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double num)) return null;
        double den = 1;
        if (parts.Length == 2 && !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out den)) return null;
        return num > 0 && den > 0 ? num / den : null;
    }

    /// <summary>Stops ffmpeg (when still running) and the reading thread.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _frames.Writer.TryComplete();
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        // Drain so the pump thread, blocked on a full channel, can see the completion and end.
        while (_frames.Reader.TryRead(out _)) { }
        _pump.Join(TimeSpan.FromSeconds(5));
        _process.Dispose();
    }
}

/// <summary>What ffprobe says about a source's first video stream (any field may be unknown).</summary>
internal sealed record VideoProbe(string? FrameRate, long? FrameCount, string? Error)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>Probes <paramref name="source"/>; no ffprobe, or a live source that does not answer in time, gives unknowns, not an error.</summary>
    public static VideoProbe Run(string source, string? inputFormat)
    {
        if (Ffmpeg.FindFfprobe() is not { } ffprobe) return new VideoProbe(null, null, null);
        var args = new List<string> { "-v", "error" };
        if (inputFormat is not null) args.AddRange(["-f", inputFormat]);
        args.AddRange(["-select_streams", "v:0", "-show_entries", "stream=avg_frame_rate,r_frame_rate,nb_frames", "-of", "json", source]);
        using var process = Ffmpeg.Start(ffprobe, args, stdin: false, out var stderr);
        var output = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            return new VideoProbe(null, null, null);
        }
        process.WaitForExit();
        if (process.ExitCode != 0) return new VideoProbe(null, null, Ffmpeg.ErrorTail(stderr));
        using var doc = JsonDocument.Parse(output.GetAwaiter().GetResult());
        if (!doc.RootElement.TryGetProperty("streams", out var streams) || streams.GetArrayLength() == 0)
            return new VideoProbe(null, null, "it has no video stream");
        var s = streams[0];
        string? rate = Text(s, "avg_frame_rate") is { } avg && VideoReader.ParseRate(avg) is not null ? avg
            : Text(s, "r_frame_rate") is { } r && VideoReader.ParseRate(r) is not null ? r : null;
        long? count = Text(s, "nb_frames") is { } n && long.TryParse(n, NumberStyles.Integer, CultureInfo.InvariantCulture, out long c) && c > 0 ? c : null;
        return new VideoProbe(rate, count, null);
    }

    private static string? Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
