using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SharpVision.Evaluation;

/// <summary>
/// Everything <c>sharpvision evaluate</c> reports, computed from fixed predictions so it can be checked
/// against scikit-learn without a model: accuracy, log loss, top-k accuracy, the per-class report with macro
/// and weighted averages, and the confusion matrix.
/// </summary>
public sealed class EvaluationSummary
{
    private EvaluationSummary(ClassificationReport report, double loss, int topK, double topKAccuracy, int unknownLabels, int skipped)
    {
        Report = report;
        Loss = loss;
        TopK = topK;
        TopKAccuracy = topKAccuracy;
        UnknownLabels = unknownLabels;
        Skipped = skipped;
    }

    /// <summary>Per-class metrics, averages and confusion matrix (sklearn's definitions, zero_division=0).</summary>
    public ClassificationReport Report { get; }

    /// <summary>Class names in class-index order.</summary>
    public IReadOnlyList<string> Classes => Report.Classes;

    /// <summary>Fraction of images whose predicted class is the actual one.</summary>
    public double Accuracy => Report.Accuracy;

    /// <summary>Mean cross-entropy, as sklearn's <c>log_loss(y_true, probabilities, labels=range(K))</c> (NaN with no images).</summary>
    public double Loss { get; }

    /// <summary>The k of <see cref="TopKAccuracy"/> (the requested k, at most the number of classes).</summary>
    public int TopK { get; }

    /// <summary>sklearn's <c>top_k_accuracy_score(y_true, probabilities, k, labels=range(K))</c>.</summary>
    public double TopKAccuracy { get; }

    /// <summary>Images left out because their label is not among the model's classes.</summary>
    public int UnknownLabels { get; }

    /// <summary>Images left out because they could not be read.</summary>
    public int Skipped { get; }

    /// <summary>Number of images evaluated.</summary>
    public int Images => Report.Total;

    /// <summary>Computes the summary of fixed predictions.</summary>
    /// <param name="actual">[N] actual class indices.</param>
    /// <param name="predicted">[N] predicted class indices (normally the arg-max of each probability row).</param>
    /// <param name="probabilities">[N][K] class probabilities (a binary model's as [1-p, p]).</param>
    /// <param name="classes">The K class names.</param>
    /// <param name="topK">k of the top-k accuracy; clamped to K.</param>
    /// <param name="unknownLabels">Count of images whose label the model does not know (reported, not scored).</param>
    /// <param name="skipped">Count of unreadable images (reported, not scored).</param>
    public static EvaluationSummary Compute(int[] actual, int[] predicted, float[][] probabilities, IReadOnlyList<string> classes,
        int topK = 5, int unknownLabels = 0, int skipped = 0)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(classes);
        if (topK <= 0) throw new ArgumentOutOfRangeException(nameof(topK), $"topK must be positive, got {topK}");
        int k = classes.Count;
        if (probabilities.Length != actual.Length)
            throw new ArgumentException($"{probabilities.Length} probability rows for {actual.Length} labels", nameof(probabilities));
        for (int i = 0; i < probabilities.Length; i++)
            if (probabilities[i].Length != k)
                throw new ArgumentException($"row {i} has {probabilities[i].Length} probabilities for {k} classes", nameof(probabilities));

        var report = ClassificationReport.Compute(actual, predicted, k, classes);
        var matrix = new float[actual.Length, k];
        for (int i = 0; i < actual.Length; i++)
            for (int c = 0; c < k; c++) matrix[i, c] = probabilities[i][c];
        double loss = actual.Length == 0 ? double.NaN : ClassificationReport.LogLoss(matrix, actual);
        int kk = Math.Min(topK, k);
        double topKAccuracy = actual.Length == 0 ? double.NaN : ClassificationReport.TopKAccuracy(probabilities, actual, kk);
        return new EvaluationSummary(report, loss, kk, topKAccuracy, unknownLabels, skipped);
    }

    /// <summary>
    /// One JSON object: <c>accuracy, loss, top_k, top_k_accuracy, per_class</c> (name -> precision, recall,
    /// f1, support), <c>macro_avg, weighted_avg, confusion_matrix</c> (rows = actual, columns = predicted,
    /// class order), <c>classes, images, skipped, unknown_labels</c>, plus any <paramref name="extra"/>
    /// fields first. A metric that is undefined (no images) is written as null.
    /// </summary>
    public string ToJson(IReadOnlyDictionary<string, string>? extra = null, bool indented = false)
    {
        var o = new JsonObject();
        if (extra is not null)
            foreach (var (key, value) in extra) o[key] = value;
        o["images"] = Images;
        o["skipped"] = Skipped;
        o["unknown_labels"] = UnknownLabels;
        o["accuracy"] = Number(Accuracy);
        o["loss"] = Number(Loss);
        o["top_k"] = TopK;
        o["top_k_accuracy"] = Number(TopKAccuracy);
        var perClass = new JsonObject();
        foreach (var m in Report.PerClass) perClass[m.Name] = Metrics(m);
        o["per_class"] = perClass;
        o["macro_avg"] = Metrics(Report.MacroAverage);
        o["weighted_avg"] = Metrics(Report.WeightedAverage);
        var rows = new JsonArray();
        for (int r = 0; r < Classes.Count; r++)
        {
            var row = new JsonArray();
            for (int c = 0; c < Classes.Count; c++) row.Add(Report.ConfusionMatrix[r, c]);
            rows.Add(row);
        }
        o["confusion_matrix"] = rows;
        o["classes"] = new JsonArray(Classes.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray());
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = indented });

        static JsonObject Metrics(ClassMetrics m) => new()
        {
            ["precision"] = m.Precision,
            ["recall"] = m.Recall,
            ["f1"] = m.F1,
            ["support"] = m.Support,
        };
        // JSON has no NaN: an undefined metric is null rather than a string the reader must special-case.
        static JsonNode? Number(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;
    }

    /// <summary>The human report: headline numbers, then sklearn's classification_report table.</summary>
    public string ToText(int digits = 4)
    {
        var sb = new StringBuilder();
        string F(double v) => double.IsFinite(v) ? v.ToString("F" + digits, CultureInfo.InvariantCulture) : "n/a";
        sb.Append(CultureInfo.InvariantCulture, $"images {Images}");
        if (Skipped > 0) sb.Append(CultureInfo.InvariantCulture, $" ({Skipped} unreadable, skipped)");
        if (UnknownLabels > 0) sb.Append(CultureInfo.InvariantCulture, $" ({UnknownLabels} with labels the model does not know, skipped)");
        sb.Append('\n');
        sb.Append(CultureInfo.InvariantCulture, $"accuracy {F(Accuracy)}  loss {F(Loss)}  top-{TopK} accuracy {F(TopKAccuracy)}\n\n");
        sb.Append(Report.ToText(digits));
        return sb.ToString();
    }
}
