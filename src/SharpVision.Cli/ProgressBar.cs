using System.Diagnostics;
using System.Globalization;
using System.Text;
using SharpVision.Training;
using SharpVision.Training.Callbacks;
using Spectre.Console;

namespace SharpVision.Cli;

/// <summary>
/// Console progress for the CLI's fit loops (the library reports through callbacks and events; this callback is
/// the console rendering). On an interactive terminal: a Spectre.Console bar per epoch with step/total, ETA, running loss
/// and metrics and images/s, then a summary line. When output is redirected (logs, CI): one plain line per epoch.
/// Both mention skipped unreadable images when there were any, and the reason training stopped early.
/// </summary>
public sealed class ProgressBar : Callback, IDisposable
{
    private readonly IAnsiConsole? _console;
    private readonly TextWriter _plain;
    private readonly bool _interactive;
    private readonly Stopwatch _clock = new();
    private Thread? _renderThread;
    private ManualResetEventSlim? _epochDone;
    private ProgressTask? _task;
    private int _epoch;

    /// <param name="console">Spectre console for the live bar; null = <see cref="AnsiConsole.Console"/>.</param>
    /// <param name="plainOutput">Where plain lines go; null = <see cref="Console.Out"/>.</param>
    /// <param name="interactive">Force the mode; null = live bar only when stdout is a terminal.</param>
    public ProgressBar(IAnsiConsole? console = null, TextWriter? plainOutput = null, bool? interactive = null)
    {
        _interactive = interactive ?? (!Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive);
        _console = _interactive ? console ?? AnsiConsole.Console : console;
        _plain = plainOutput ?? Console.Out;
    }

    /// <summary>Whether the live bar is used.</summary>
    public bool Interactive => _interactive;

    /// <inheritdoc />
    public override void OnTrainBegin() => StopBar();

    /// <inheritdoc />
    public override void OnEpochBegin(int epoch)
    {
        _epoch = epoch;
        _clock.Restart();
        if (!_interactive || _console is null)
            return;
        StopBar();
        int? total = Trainer.StepsPerEpoch;
        var ready = new ManualResetEventSlim();
        var done = new ManualResetEventSlim();
        _epochDone = done;
        string title = Markup.Escape(EpochTitle(epoch));
        var console = _console;
        // Spectre's Progress owns the calling thread until its action returns; the fit loop calls hooks instead,
        // so the bar lives on its own thread and the hooks update its task (ProgressTask is thread-safe).
        _renderThread = new Thread(() =>
        {
            try
            {
                console.Progress()
                    .AutoClear(true)
                    .HideCompleted(false)
                    .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(),
                        new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                    .Start(ctx =>
                    {
                        _task = ctx.AddTask(title, autoStart: true, maxValue: total ?? 1);
                        _task.IsIndeterminate = total is null;
                        ready.Set();
                        done.Wait();
                        _task.Value = _task.MaxValue;
                        _task.StopTask();
                    });
            }
            finally
            {
                ready.Set();
            }
        }) { IsBackground = true, Name = "SharpVision progress" };
        _renderThread.Start();
        ready.Wait();
    }

    /// <inheritdoc />
    public override void OnBatchEnd(int step, IReadOnlyDictionary<string, double> logs)
    {
        if (_task is null)
            return;
        double seconds = Math.Max(_clock.Elapsed.TotalSeconds, 1e-9);
        double images = logs.TryGetValue(LogNames.Images, out double n) ? n : 0;
        int? total = Trainer.StepsPerEpoch;
        var text = new StringBuilder(EpochTitle(_epoch));
        text.Append(CultureInfo.InvariantCulture, $" {step + 1}/{(total is null ? "?" : total.Value.ToString(CultureInfo.InvariantCulture))}");
        foreach (var (key, value) in logs)
            if (key is not LogNames.Images and not LogNames.Skipped)
                text.Append(CultureInfo.InvariantCulture, $" - {key}: {value:0.0000}");
        text.Append(CultureInfo.InvariantCulture, $" - {images / seconds:0} img/s");
        if (logs.TryGetValue(LogNames.Skipped, out double skipped) && skipped > 0)
            text.Append(CultureInfo.InvariantCulture, $" - {skipped:0} skipped");
        _task.Description = Markup.Escape(text.ToString());
        if (total is not null)
            _task.Value = Math.Min(step + 1, total.Value);
    }

    /// <inheritdoc />
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        StopBar();
        string line = FormatEpochLine(epoch, Trainer.Options.Epochs, logs);
        if (_interactive && _console is not null)
            _console.WriteLine(line);
        else
        {
            _plain.WriteLine(line);
            _plain.Flush();
        }
    }

    /// <inheritdoc />
    public override void OnTrainEnd(IReadOnlyDictionary<string, double>? logs)
    {
        StopBar();
        if (Trainer.StopReason is { } reason)
        {
            if (_interactive && _console is not null)
                _console.MarkupLine("[yellow]" + Markup.Escape(reason) + "[/]");
            else
                _plain.WriteLine(reason);
        }
    }

    /// <inheritdoc />
    public override void OnTrainAborted(Exception error) => StopBar();

    /// <summary>Stops a live bar if one is running.</summary>
    public void Dispose() => StopBar();

    /// <summary>
    /// The per-epoch line, Keras style: <c>Epoch 3/20 - 4.2s - loss: 0.4321 - accuracy: 0.8765 - val_loss: ...
    /// - lr: 0.001 - 2 unreadable images skipped</c>.
    /// </summary>
    public static string FormatEpochLine(int epoch, int epochs, IDictionary<string, double> logs)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.Append(inv, $"Epoch {epoch + 1}/{epochs}");
        if (logs.TryGetValue(LogNames.Seconds, out double s))
            text.Append(inv, $" - {s:0.0}s");
        foreach (var (key, value) in logs)
        {
            if (key is LogNames.Seconds or LogNames.Skipped)
                continue;
            string v = key == LogNames.LearningRate ? value.ToString("G4", inv) : value.ToString("0.0000", inv);
            text.Append(inv, $" - {key}: {v}");
        }
        if (logs.TryGetValue(LogNames.Skipped, out double skipped) && skipped > 0)
            text.Append(inv, $" - {skipped:0} unreadable image{(skipped == 1 ? "" : "s")} skipped");
        return text.ToString();
    }

    private string EpochTitle(int epoch) => $"Epoch {epoch + 1}/{Trainer.Options.Epochs}";

    private void StopBar()
    {
        _epochDone?.Set();
        _renderThread?.Join();
        _renderThread = null;
        _epochDone?.Dispose();
        _epochDone = null;
        _task = null;
    }
}
