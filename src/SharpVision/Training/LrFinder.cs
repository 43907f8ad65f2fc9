using SharpVision.Data;
using SharpVision.Reports;
using SharpVision.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Training;

/// <summary>What the learning-rate range test found.</summary>
/// <param name="Rates">Learning rate of each step (exponential sweep).</param>
/// <param name="Losses">Raw training loss of each step.</param>
/// <param name="Smoothed">Exponentially smoothed, bias-corrected loss of each step (what is plotted).</param>
/// <param name="Suggestion">The suggested rate: steepest descent of the smoothed loss (fastai's <c>steep</c>).</param>
/// <param name="MinimumOver10">The rate at the lowest smoothed loss, divided by 10 (fastai's <c>minimum</c>).</param>
/// <param name="StopReason">Why the sweep ended before its last step, or null.</param>
public sealed record LrFindResult(double[] Rates, double[] Losses, double[] Smoothed, double Suggestion, double MinimumOver10, string? StopReason);

/// <summary>
/// Leslie Smith's learning-rate range test as fastai's <c>lr_find</c> runs it: one mini-batch per step with the rate
/// growing exponentially from <c>start</c> to <c>end</c>, stopping once the smoothed loss exceeds 4x its minimum.
/// The model's weights (and BatchNorm statistics) are put back afterwards, so the test leaves no trace.
/// </summary>
public static class LrFinder
{
    /// <summary>Runs the sweep.</summary>
    /// <param name="model">Returns logits [B, K] (1 = binary).</param>
    /// <param name="batches">Training batches of a pass, by pass index (called again when a pass runs out).</param>
    /// <param name="optimizer">Optimizer name (<see cref="OptimizerFactory.Names"/>), built over trainable parameters.</param>
    /// <param name="start">First rate (fastai 1e-7).</param>
    /// <param name="end">Last rate (fastai 10).</param>
    /// <param name="steps">Number of steps (fastai 100).</param>
    /// <param name="device">Where to run; null = CPU.</param>
    /// <param name="momentum">sgd/rmsprop momentum.</param>
    /// <param name="weightDecay">Weight decay.</param>
    /// <param name="beta">Smoothing of the loss (fastai 0.98).</param>
    /// <param name="divergence">Stop when the smoothed loss exceeds this times its minimum (fastai 4).</param>
    /// <param name="precision">The steps' arithmetic, as the training run will use it (<see cref="MixedPrecision"/>).</param>
    /// <param name="cancellationToken">Checked between steps; the weights are restored before the exception leaves.</param>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired; the message says how many steps were done.</exception>
    public static LrFindResult Run(nn.Module<Tensor, Tensor> model, Func<int, IEnumerable<Batch>> batches, string optimizer = "adam",
        double start = 1e-7, double end = 10, int steps = 100, Device? device = null, double momentum = 0, double weightDecay = 0,
        double beta = 0.98, double divergence = 4, Precision precision = Precision.Fp32, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batches);
        MixedPrecision.Require(precision, "LrFinder.Precision");
        if (!(start > 0) || !(end > start))
            throw new InvalidOptionException("LrFinder.StartLr", $"a number > 0 and below LrFinder.EndLr ({end})", start.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (steps < 5) throw new InvalidOptionException("LrFinder.Steps", "an integer >= 5", steps.ToString(System.Globalization.CultureInfo.InvariantCulture));
        device ??= CPU;
        model.to(device);
        var saved = StateDicts.CloneToCpu(model);
        var rates = new List<double>();
        var losses = new List<double>();
        var smoothed = new List<double>();
        string? stop = null;
        bool wasTraining = model.training;
        using var opt = OptimizerFactory.Create(optimizer, model.parameters().Where(p => p.requires_grad), start, momentum, false, weightDecay);
        try
        {
            model.train();
            Models.Freezing.KeepFrozenBatchNormInEval(model);
            double avg = 0, best = double.PositiveInfinity;
            int step = 0;
            using var loop = BatchLoop.Training(device, cancellationToken);
            loop.CanceledMessage = () => $"stopped after {step} of {steps} steps; the weights were restored";
            for (int pass = 0; step < steps && stop is null; pass++)
            {
                int before = step;
                foreach (var batch in loop.Batches(batches(pass)))
                {
                    double lr = start * Math.Pow(end / start, step / (double)(steps - 1));
                    OptimizerFactory.SetLearningRate(opt, lr);
                    double loss = loop.Step(batch, (x, y) =>                   // x [B, C, H, W], y [B]
                    {
                        opt.zero_grad();
                        var logits = MixedPrecision.Forward(model, x, precision); // [B, K], float32
                        var l = Losses.Classification(logits, y);
                        l.backward();
                        opt.step();
                        return (double)l.item<float>();
                    });
                    avg = beta * avg + (1 - beta) * loss;
                    double s = avg / (1 - Math.Pow(beta, step + 1));
                    rates.Add(lr);
                    losses.Add(loss);
                    smoothed.Add(s);
                    step++;
                    if (!double.IsFinite(s)) { stop = $"the loss became {loss} at lr {lr:G3}"; break; }
                    best = Math.Min(best, s);
                    if (step > 5 && s > divergence * best) { stop = $"the loss diverged (above {divergence}x its minimum) at lr {lr:G3}"; break; }
                    if (step >= steps) break;
                }
                if (step == before) throw new DatasetException("lr-find: the training data produced no batch.");
            }
        }
        finally
        {
            // Put the weights and statistics back: the test must leave the model as it found it.
            StateDicts.LoadStrict(model, saved, "lr-find snapshot");
            foreach (var t in saved.Values) t.Dispose();
            model.train(wasTraining);
        }
        var (suggestion, minOver10) = Suggest(rates, smoothed);
        return new LrFindResult([.. rates], [.. losses], [.. smoothed], suggestion, minOver10, stop);
    }

    /// <summary>
    /// (steepest, minimum / 10): the rate where the smoothed loss falls fastest against log10(lr), looked for before
    /// the minimum; and the rate at the minimum divided by 10. Falls back to minimum / 10 when no point descends.
    /// </summary>
    public static (double Steepest, double MinimumOver10) Suggest(IReadOnlyList<double> rates, IReadOnlyList<double> smoothed)
    {
        if (rates.Count == 0) return (double.NaN, double.NaN);
        int finite = smoothed.Count(double.IsFinite);
        int iMin = 0;
        for (int i = 1; i < smoothed.Count; i++)
            if (double.IsFinite(smoothed[i]) && smoothed[i] < smoothed[iMin]) iMin = i;
        double minOver10 = rates[iMin] / 10;
        if (finite < 3) return (minOver10, minOver10);
        double bestSlope = 0;
        int iBest = -1;
        for (int i = 1; i <= iMin; i++)
        {
            double slope = (smoothed[i] - smoothed[i - 1]) / (Math.Log10(rates[i]) - Math.Log10(rates[i - 1]));
            if (double.IsFinite(slope) && slope < bestSlope) { bestSlope = slope; iBest = i; }
        }
        return (iBest < 0 ? minOver10 : rates[iBest], minOver10);
    }

    /// <summary>Plots smoothed loss against the rate (log axis) with the suggestion marked; written atomically as PNG.</summary>
    public static void SavePlot(LrFindResult result, string pngPath, string title = "Learning rate finder")
    {
        ArgumentNullException.ThrowIfNull(result);
        ReportFonts.Ensure();
        const int width = 900, height = 560;
        var plot = new ScottPlot.Plot();
        plot.Font.Set(ReportFonts.Family);
        plot.Title(title, 20);
        plot.XLabel("learning rate (log scale)", 15);
        plot.YLabel("training loss (smoothed)", 15);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 13;
        plot.Axes.Left.TickLabelStyle.FontSize = 13;
        // x is log10(lr): integer ticks labelled as powers of ten.
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            IntegerTicksOnly = true,
            LabelFormatter = v => "1e" + v.ToString("0", System.Globalization.CultureInfo.InvariantCulture),
        };
        var xs = result.Rates.Select(Math.Log10).ToArray();
        var line = plot.Add.Scatter(xs, result.Smoothed);
        line.LineWidth = 2;
        line.MarkerSize = 0;
        line.Color = ScottPlot.Color.FromHex("#1f77b4");
        line.LegendText = "smoothed loss";
        if (double.IsFinite(result.Suggestion) && result.Suggestion > 0)
        {
            int i = Nearest(result.Rates, result.Suggestion);
            var mark = plot.Add.Marker(xs[i], result.Smoothed[i]);
            mark.Color = ScottPlot.Color.FromHex("#d62728");
            mark.Size = 14;
            mark.LegendText = $"suggested lr {result.Suggestion:G2} (steepest descent)";
            var v = plot.Add.VerticalLine(xs[i]);
            v.Color = ScottPlot.Color.FromHex("#d62728");
            v.LinePattern = ScottPlot.LinePattern.Dashed;
        }
        // Keep the y range on the interesting part: the divergent tail can be far above the start.
        var finite = result.Smoothed.Where(double.IsFinite).ToArray();
        if (finite.Length > 0)
        {
            double lo = finite.Min(), hi = Math.Min(finite.Max(), finite[0] * 1.5 + 1e-9);
            if (hi <= lo) hi = lo + 1;
            double pad = (hi - lo) * 0.05;
            plot.Axes.SetLimitsY(lo - pad, hi + pad);
        }
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        using var surface = SkiaImages.WhiteSurface(width, height);
        plot.Render(surface.Canvas, width, height);
        SkiaImages.SavePng(surface, pngPath);
    }

    private static int Nearest(double[] rates, double lr)
    {
        int best = 0;
        for (int i = 1; i < rates.Length; i++)
            if (Math.Abs(Math.Log(rates[i] / lr)) < Math.Abs(Math.Log(rates[best] / lr))) best = i;
        return best;
    }
}
