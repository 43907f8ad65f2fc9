using System.Diagnostics;
using System.Text;
using System.Text.Json;
using SharpVision.Imaging;
using SharpVision.Imaging.Video;

namespace SharpVision.Evaluation;

/// <summary>Settings of a run over a video, a camera or a stream (<see cref="VideoInference"/>).</summary>
public sealed record VideoOptions
{
    /// <summary>The annotated video to write (container from its extension; .mp4 = H.264), or null for none.</summary>
    public string? Output { get; init; }

    /// <summary>The JSON-lines file to write, one line per processed frame, or null for none.</summary>
    public string? JsonLines { get; init; }

    /// <summary>
    /// Run the model on every Nth frame (1 = every frame). The annotated video still holds every frame: those between
    /// two processed frames carry the earlier one's results, so it plays at the source's speed.
    /// </summary>
    public int Stride { get; init; } = 1;

    /// <summary>Frames per forward pass (divided by <see cref="Stride"/>, so at most about this many frames wait in memory).</summary>
    public int Batch { get; init; } = 4;

    /// <summary>ffmpeg's input format for the source (its <c>-f</c>), e.g. <c>v4l2</c>; null lets ffmpeg choose (<c>/dev/video*</c> gets v4l2).</summary>
    public string? InputFormat { get; init; }

    /// <summary>Stop after this many source frames (null: the whole source, or until cancelled for a live one).</summary>
    public long? MaxFrames { get; init; }

    /// <summary>Checks the values; names the property and what was received.</summary>
    public void Validate()
    {
        if (Stride < 1) throw new InvalidOptionException($"{nameof(VideoOptions)}.{nameof(Stride)}", "an integer >= 1", Stride.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (Batch < 1) throw new InvalidOptionException($"{nameof(VideoOptions)}.{nameof(Batch)}", "an integer >= 1", Batch.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (MaxFrames is < 1) throw new InvalidOptionException($"{nameof(VideoOptions)}.{nameof(MaxFrames)}", "an integer >= 1", MaxFrames.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}

/// <summary>Where a video run is: source frames read, how many the model ran on, the frame count when known, frames per second so far.</summary>
public sealed record VideoProgress(long Frames, long Processed, long? TotalFrames, double FramesPerSecond);

/// <summary>What a video run did: frames read and processed, its duration and the files written.</summary>
public sealed record VideoRunResult(string Source, long Frames, long Processed, double Seconds, string? VideoPath, string? JsonLinesPath,
    string? Warning, bool Stopped)
{
    /// <summary>Source frames per second of wall time.</summary>
    public double FramesPerSecond => Seconds > 0 ? Frames / Seconds : 0;
}

/// <summary>
/// The one loop for running a model over a video (files -> frames -> model -> outputs, as for images): frames come
/// from <see cref="VideoReader"/> (ffmpeg), every <see cref="VideoOptions.Stride"/>th frame goes through the model in
/// batches, each processed frame gives one JSON line, and every frame goes to <see cref="VideoWriter"/> drawn with the
/// latest results. Detection and classification differ only in the three functions they pass.
/// Cancelling stops after the current batch: the frames so far are written and the video is finished (a camera is
/// stopped this way).
/// </summary>
public static class VideoInference
{
    /// <summary>Runs <paramref name="infer"/> over <paramref name="source"/>.</summary>
    /// <param name="source">A video file, a camera (<c>/dev/video0</c>) or a URL ffmpeg opens.</param>
    /// <param name="options">Outputs, stride, batch.</param>
    /// <param name="infer">The model over a batch of frames: one result per frame, in order.</param>
    /// <param name="draw">A frame with a result drawn on it (a new image).</param>
    /// <param name="writeResult">Writes a result's fields into the frame's JSON object.</param>
    /// <param name="progress">Reports after every batch.</param>
    /// <param name="cancellationToken">Stops the run cleanly (outputs finished, <see cref="VideoRunResult.Stopped"/> set).</param>
    /// <exception cref="VideoException">ffmpeg is missing, the source cannot be read, or the output cannot be written.</exception>
    public static VideoRunResult Run<T>(string source, VideoOptions options, Func<IReadOnlyList<RgbImage>, IReadOnlyList<T>> infer,
        Func<RgbImage, T, RgbImage> draw, Action<Utf8JsonWriter, T> writeResult, IProgress<VideoProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        options.Validate();
        var clock = Stopwatch.StartNew();
        using var reader = VideoReader.Open(source, options.InputFormat);
        VideoWriter? video = null;
        StreamWriter? lines = null;
        try
        {
            if (options.JsonLines is { } jsonPath)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(jsonPath))!);
                lines = new StreamWriter(jsonPath, append: false, new UTF8Encoding(false)) { AutoFlush = false, NewLine = "\n" };
            }
            int batch = Math.Max(1, options.Batch / options.Stride);
            var pending = new List<VideoFrame>();   // frames read since the last flush, in order
            var processed = new List<VideoFrame>(); // the ones the model runs on
            bool haveLast = false;
            T last = default!;
            long frames = 0, done = 0;
            bool stopped = false;

            void Flush()
            {
                if (pending.Count == 0) return;
                var results = processed.Count == 0 ? [] : infer(processed.Select(f => f.Image).ToList());
                if (results.Count != processed.Count)
                    throw new InvalidOperationException($"the model gave {results.Count} results for {processed.Count} frames");
                int next = 0;
                foreach (var frame in pending)
                {
                    if (next < processed.Count && ReferenceEquals(processed[next], frame))
                    {
                        last = results[next++];
                        haveLast = true;
                        if (lines is not null) WriteLine(lines, frame, last, writeResult);
                        done++;
                    }
                    if (options.Output is { } outPath)
                    {
                        video ??= new VideoWriter(outPath, frame.Image.Width, frame.Image.Height, reader.FrameRate);
                        video.Write(haveLast ? draw(frame.Image, last) : frame.Image);
                    }
                }
                lines?.Flush();
                pending.Clear();
                processed.Clear();
                progress?.Report(new VideoProgress(frames, done, reader.FrameCount, frames / Math.Max(clock.Elapsed.TotalSeconds, 1e-9)));
            }

            foreach (var frame in reader.Frames(cancellationToken))
            {
                pending.Add(frame);
                if (frame.Index % options.Stride == 0) processed.Add(frame);
                frames++;
                if (processed.Count >= batch && frame.Index % options.Stride == options.Stride - 1 || processed.Count > batch) Flush();
                if (options.MaxFrames is { } max && frames >= max) break;
            }
            stopped = cancellationToken.IsCancellationRequested;
            Flush();
            video?.Finish();
            lines?.Dispose();
            lines = null;
            return new VideoRunResult(source, frames, done, clock.Elapsed.TotalSeconds, video?.Path, options.JsonLines, reader.Warning, stopped);
        }
        finally
        {
            lines?.Dispose();
            video?.Dispose();
        }
    }

    private static void WriteLine<T>(StreamWriter lines, VideoFrame frame, T result, Action<Utf8JsonWriter, T> writeResult)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteNumber("frame", frame.Index);
            w.WriteNumber("time", Math.Round(frame.Time, 4));
            writeResult(w, result);
            w.WriteEndObject();
        }
        lines.WriteLine(Encoding.UTF8.GetString(ms.ToArray()));
    }
}
