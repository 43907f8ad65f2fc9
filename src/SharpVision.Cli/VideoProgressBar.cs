using System.Diagnostics;
using System.Globalization;
using SharpVision.Evaluation;
using Spectre.Console;

namespace SharpVision.Cli;

/// <summary>
/// Console progress for a run over a video (the library reports <see cref="VideoProgress"/>): on a terminal a
/// Spectre.Console bar with frames done / total and frames per second (no total for a camera or stream: the bar
/// pulses); when output is redirected a plain line every 5 seconds. Then one summary line.
/// </summary>
public static class VideoProgressBar
{
    private static readonly TimeSpan PlainEvery = TimeSpan.FromSeconds(5);

    /// <summary>Runs <paramref name="work"/> with a progress display titled <paramref name="title"/>.</summary>
    public static VideoRunResult Run(string title, Func<IProgress<VideoProgress>, VideoRunResult> work)
    {
        VideoRunResult result;
        if (!Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive)
        {
            result = null!;
            AnsiConsole.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask(Markup.Escape(title), autoStart: true, maxValue: 1);
                    task.IsIndeterminate = true;
                    result = work(new Reporter(p =>
                    {
                        if (p.TotalFrames is { } total)
                        {
                            task.IsIndeterminate = false;
                            task.MaxValue = total;
                            task.Value = Math.Min(p.Frames, total);
                        }
                        task.Description = Markup.Escape($"{title} {Describe(p)}");
                    }));
                    task.StopTask();
                });
        }
        else
        {
            var clock = Stopwatch.StartNew();
            var next = PlainEvery;
            result = work(new Reporter(p =>
            {
                if (clock.Elapsed < next) return;
                next = clock.Elapsed + PlainEvery;
                Console.WriteLine($"{title} {Describe(p)}");
            }));
        }
        string stopped = result.Stopped ? $", stopped by {Interrupts.SignalName}" : "";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{result.Source}: {result.Frames} frames ({result.Processed} through the model) in {result.Seconds:0.0} s, {result.FramesPerSecond:0.0} frames/s{stopped}"));
        if (result.Warning is { } warning) Console.Error.WriteLine($"warning: {warning}");
        return result;
    }

    /// <summary>"frame 120/300 · 23.5 frames/s" (no total for a live source).</summary>
    public static string Describe(VideoProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"frame {p.Frames}{(p.TotalFrames is { } t ? "/" + t.ToString(CultureInfo.InvariantCulture) : "")} · {p.FramesPerSecond:0.0} frames/s");

    // Synchronous: Progress<T> would post to the thread pool and report out of order.
    private sealed class Reporter(Action<VideoProgress> report) : IProgress<VideoProgress>
    {
        public void Report(VideoProgress value) => report(value);
    }
}
