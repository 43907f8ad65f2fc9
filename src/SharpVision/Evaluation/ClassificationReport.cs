using System.Globalization;
using System.Text;

namespace SharpVision.Evaluation;

/// <summary>Precision, recall, F1 and support of one class (or an average over classes).</summary>
public sealed record ClassMetrics(string Name, double Precision, double Recall, double F1, int Support);

/// <summary>
/// Classification metrics with scikit-learn's definitions (<c>precision_recall_fscore_support(...,
/// labels=range(numClasses), zero_division=0)</c>): a class never predicted has precision 0, a class with no
/// support has recall 0, and F1 is 0 when precision + recall is 0. Averages run over every class in
/// <see cref="Classes"/>, including classes absent from the data, exactly as sklearn does when given labels.
/// </summary>
public sealed class ClassificationReport
{
    private ClassificationReport(IReadOnlyList<string> classes, double accuracy, IReadOnlyList<ClassMetrics> perClass,
        ClassMetrics macro, ClassMetrics weighted, int[,] confusion, int total)
    {
        Classes = classes;
        Accuracy = accuracy;
        PerClass = perClass;
        MacroAverage = macro;
        WeightedAverage = weighted;
        ConfusionMatrix = confusion;
        Total = total;
    }

    /// <summary>Class names, in class-index order.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Fraction of samples whose prediction equals the actual class.</summary>
    public double Accuracy { get; }

    /// <summary>One entry per class, in class-index order.</summary>
    public IReadOnlyList<ClassMetrics> PerClass { get; }

    /// <summary>Unweighted mean over classes (Support = total samples).</summary>
    public ClassMetrics MacroAverage { get; }

    /// <summary>Mean over classes weighted by support (Support = total samples).</summary>
    public ClassMetrics WeightedAverage { get; }

    /// <summary>Counts, rows = actual class, columns = predicted class, both in class order.</summary>
    public int[,] ConfusionMatrix { get; }

    /// <summary>Number of samples.</summary>
    public int Total { get; }

    /// <summary>Computes the report from actual and predicted class indices in [0, numClasses).</summary>
    public static ClassificationReport Compute(int[] actual, int[] predicted, int numClasses, IReadOnlyList<string>? classes = null)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(predicted);
        if (actual.Length != predicted.Length)
            throw new ArgumentException($"actual has {actual.Length} labels but predicted has {predicted.Length}", nameof(predicted));
        if (numClasses <= 0)
            throw new ArgumentOutOfRangeException(nameof(numClasses), $"numClasses must be positive, got {numClasses}");
        if (classes is not null && classes.Count != numClasses)
            throw new ArgumentException($"{classes.Count} class names given for {numClasses} classes", nameof(classes));
        classes ??= Enumerable.Range(0, numClasses).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();

        var confusion = new int[numClasses, numClasses];
        int correct = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            int a = actual[i], p = predicted[i];
            if ((uint)a >= (uint)numClasses || (uint)p >= (uint)numClasses)
                throw new ArgumentOutOfRangeException(nameof(actual), $"sample {i}: label {a} / prediction {p} outside 0..{numClasses - 1}");
            confusion[a, p]++;
            if (a == p) correct++;
        }

        int total = actual.Length;
        var perClass = new ClassMetrics[numClasses];
        double sumP = 0, sumR = 0, sumF = 0, wP = 0, wR = 0, wF = 0;
        for (int c = 0; c < numClasses; c++)
        {
            int tp = confusion[c, c], support = 0, predictedCount = 0;
            for (int j = 0; j < numClasses; j++)
            {
                support += confusion[c, j];
                predictedCount += confusion[j, c];
            }
            // zero_division=0: an empty denominator gives 0 rather than NaN.
            double precision = predictedCount == 0 ? 0 : (double)tp / predictedCount;
            double recall = support == 0 ? 0 : (double)tp / support;
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            perClass[c] = new ClassMetrics(classes[c], precision, recall, f1, support);
            sumP += precision; sumR += recall; sumF += f1;
            wP += precision * support; wR += recall * support; wF += f1 * support;
        }

        var macro = new ClassMetrics("macro avg", sumP / numClasses, sumR / numClasses, sumF / numClasses, total);
        var weighted = total == 0
            ? new ClassMetrics("weighted avg", 0, 0, 0, 0)
            : new ClassMetrics("weighted avg", wP / total, wR / total, wF / total, total);
        double accuracy = total == 0 ? 0 : (double)correct / total;
        return new ClassificationReport(classes, accuracy, perClass, macro, weighted, confusion, total);
    }

    /// <summary>
    /// Fraction of samples whose actual class is among the k highest scores of its row
    /// (<paramref name="scores"/> is [N, C]). Ties follow sklearn's <c>top_k_accuracy_score</c> for the
    /// multiclass case: among equal scores the higher class index ranks first. With two columns the same
    /// ranking is used (for sklearn's 1-D binary rule use <see cref="TopKAccuracy(float[], int[], int)"/>).
    /// </summary>
    public static double TopKAccuracy(float[,] scores, int[] actual, int k)
    {
        ArgumentNullException.ThrowIfNull(scores);
        int n = scores.GetLength(0), c = scores.GetLength(1);
        var rows = new float[n][];
        for (int i = 0; i < n; i++)
        {
            rows[i] = new float[c];
            for (int j = 0; j < c; j++) rows[i][j] = scores[i, j];
        }
        return TopKAccuracy(rows, actual, k);
    }

    /// <summary>Same as <see cref="TopKAccuracy(float[,], int[], int)"/> with one score array per sample.</summary>
    public static double TopKAccuracy(float[][] scores, int[] actual, int k)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(actual);
        if (scores.Length != actual.Length)
            throw new ArgumentException($"{scores.Length} score rows for {actual.Length} labels", nameof(scores));
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), $"k must be positive, got {k}");
        if (actual.Length == 0) return 0;

        int hits = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            var row = scores[i];
            int truth = actual[i];
            if ((uint)truth >= (uint)row.Length)
                throw new ArgumentOutOfRangeException(nameof(actual), $"sample {i}: label {truth} outside 0..{row.Length - 1}");
            // Rank of the true class = how many classes outrank it. sklearn sorts ascending with a stable
            // sort and reverses, so a tied class with a higher index outranks a lower one.
            float s = row[truth];
            int outranking = 0;
            for (int j = 0; j < row.Length; j++)
                if (row[j] > s || (row[j] == s && j > truth)) outranking++;
            if (outranking < k) hits++;
        }
        return (double)hits / actual.Length;
    }

    /// <summary>
    /// sklearn's binary <c>top_k_accuracy_score</c> on 1-D positive-class scores: for k = 1 the prediction is
    /// positive when the score exceeds 0.5 (scores all within [0, 1]) or 0 (otherwise, e.g. logits); for
    /// k ≥ 2 every sample is a hit.
    /// </summary>
    public static double TopKAccuracy(float[] positiveScores, int[] actual, int k)
    {
        ArgumentNullException.ThrowIfNull(positiveScores);
        ArgumentNullException.ThrowIfNull(actual);
        if (positiveScores.Length != actual.Length)
            throw new ArgumentException($"{positiveScores.Length} scores for {actual.Length} labels", nameof(positiveScores));
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), $"k must be positive, got {k}");
        if (actual.Length == 0) return 0;
        if (k >= 2) return 1.0;

        bool probabilities = positiveScores.All(v => v >= 0 && v <= 1);
        float threshold = probabilities ? 0.5f : 0f;
        int hits = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            if (actual[i] is not (0 or 1))
                throw new ArgumentOutOfRangeException(nameof(actual), $"sample {i}: binary label must be 0 or 1, got {actual[i]}");
            int predicted = positiveScores[i] > threshold ? 1 : 0;
            if (predicted == actual[i]) hits++;
        }
        return (double)hits / actual.Length;
    }

    /// <summary>
    /// Mean cross-entropy of class probabilities ([N, C], rows should sum to 1) as sklearn's <c>log_loss</c>
    /// computes it for float32 input: probabilities clipped to [eps, 1 - eps] (eps = float32 machine epsilon),
    /// each row renormalised, then the mean of -ln p(actual).
    /// </summary>
    public static double LogLoss(float[,] probabilities, int[] actual)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(actual);
        int n = probabilities.GetLength(0), c = probabilities.GetLength(1);
        if (n != actual.Length)
            throw new ArgumentException($"{n} probability rows for {actual.Length} labels", nameof(probabilities));
        if (n == 0) return 0;

        const double eps = 1.1920928955078125e-07; // np.finfo(np.float32).eps
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            if ((uint)actual[i] >= (uint)c)
                throw new ArgumentOutOfRangeException(nameof(actual), $"sample {i}: label {actual[i]} outside 0..{c - 1}");
            double rowSum = 0;
            for (int j = 0; j < c; j++) rowSum += Math.Clamp(probabilities[i, j], eps, 1 - eps);
            double p = Math.Clamp(probabilities[i, actual[i]], eps, 1 - eps) / rowSum;
            sum -= Math.Log(p);
        }
        return sum / n;
    }

    /// <summary>
    /// A text table laid out exactly like sklearn's <c>classification_report(..., digits)</c>: one row per
    /// class, then accuracy, macro avg and weighted avg.
    /// </summary>
    public string ToText(int digits = 2)
    {
        int width = Math.Max("weighted avg".Length, Math.Max(digits, Classes.Count == 0 ? 0 : Classes.Max(c => c.Length)));
        var sb = new StringBuilder();
        // sklearn's formats: "{:>{width}s} " then " {:>9}" per column.
        void Row(string name, params string[] cells)
        {
            sb.Append(name.PadLeft(width)).Append(' ');
            foreach (var cell in cells) sb.Append(' ').Append(cell.PadLeft(9));
            sb.Append('\n');
        }
        string F(double v) => v.ToString("F" + digits, CultureInfo.InvariantCulture);
        string I(int v) => v.ToString(CultureInfo.InvariantCulture);

        Row("", "precision", "recall", "f1-score", "support");
        sb.Append('\n');
        foreach (var m in PerClass) Row(m.Name, F(m.Precision), F(m.Recall), F(m.F1), I(m.Support));
        sb.Append('\n');
        Row("accuracy", "", "", F(Accuracy), I(Total));
        foreach (var m in new[] { MacroAverage, WeightedAverage }) Row(m.Name, F(m.Precision), F(m.Recall), F(m.F1), I(m.Support));
        return sb.ToString();
    }
}
