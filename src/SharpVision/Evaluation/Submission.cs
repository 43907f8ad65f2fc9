using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace SharpVision.Evaluation;

/// <summary>What the label column of a submission holds.</summary>
public enum SubmissionFormat
{
    /// <summary>
    /// Kaggle "Dogs vs. Cats Redux": <c>id,label</c> with label = P(dog), the probability of the positive class
    /// (classes[1]: Keras' class_indices give cat = 0, dog = 1). Needs a two-class model.
    /// </summary>
    KaggleDogsVsCats,

    /// <summary>
    /// <c>id,label</c> with the id from the file name: a two-class model writes the probability of the positive
    /// class (classes[1]), any other model the predicted class name.
    /// </summary>
    IdFromFilename,
}

/// <summary>One row of a submission.</summary>
public sealed record SubmissionRow(long Id, string Path, string Label);

/// <summary>A file left out of a submission, with the reason.</summary>
public sealed record SubmissionSkip(string Path, string Reason);

/// <summary>
/// A competition submission built from predictions on a flat folder of numbered images
/// (<c>test1/123.jpg</c> -&gt; id 123): rows sorted by id numerically, files without a usable id listed apart.
/// </summary>
public sealed partial class Submission
{
    private Submission(IReadOnlyList<SubmissionRow> rows, IReadOnlyList<SubmissionSkip> skipped)
    {
        Rows = rows;
        Skipped = skipped;
    }

    /// <summary>Rows sorted by id.</summary>
    public IReadOnlyList<SubmissionRow> Rows { get; }

    /// <summary>Files with no numeric id, or with an id already taken by another file.</summary>
    public IReadOnlyList<SubmissionSkip> Skipped { get; }

    /// <summary>Builds the submission from a prediction table.</summary>
    /// <exception cref="InvalidOptionException">Kaggle dogs-vs-cats asked of a model without exactly two classes.</exception>
    public static Submission Build(PredictionTable predictions, SubmissionFormat format)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        var classes = predictions.Classes;
        if (format == SubmissionFormat.KaggleDogsVsCats && classes.Count != 2)
            throw new InvalidOptionException("Submission.Kind", "kaggle-dogs-vs-cats with a two-class model (e.g. cat, dog)",
                $"kaggle-dogs-vs-cats (the model has {classes.Count} classes: {string.Join(", ", classes)})");
        bool probability = classes.Count == 2;

        var rows = new List<SubmissionRow>();
        var skipped = new List<SubmissionSkip>();
        var taken = new Dictionary<long, string>();
        for (int i = 0; i < predictions.Count; i++)
        {
            string path = predictions.Paths[i];
            if (!TryParseId(path, out long id, out string? reason))
            {
                skipped.Add(new SubmissionSkip(path, reason!));
                continue;
            }
            if (taken.TryGetValue(id, out var first))
            {
                skipped.Add(new SubmissionSkip(path, $"id {id} already used by {first}"));
                continue;
            }
            taken[id] = path;
            var p = predictions.Probabilities[i];
            string label = probability ? PredictionTable.Score(p[1]) : classes[TopLosses.ArgMax(p)];
            rows.Add(new SubmissionRow(id, path, label));
        }
        rows.Sort((a, b) => a.Id.CompareTo(b.Id));
        return new Submission(rows, skipped);
    }

    /// <summary>
    /// The id of an image file: the one run of digits in its name without extension (<c>123.jpg</c> -&gt; 123,
    /// <c>img_0042.png</c> -&gt; 42). No digits, several separate runs of digits, or a number too large for a
    /// 64-bit integer give false and the reason.
    /// </summary>
    public static bool TryParseId(string path, out long id, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(path);
        id = 0;
        string stem = System.IO.Path.GetFileNameWithoutExtension(path);
        var runs = Digits().Matches(stem);
        if (runs.Count == 0) { reason = $"no number in the file name '{System.IO.Path.GetFileName(path)}'"; return false; }
        if (runs.Count > 1) { reason = $"several numbers in the file name '{System.IO.Path.GetFileName(path)}', the id is ambiguous"; return false; }
        if (!long.TryParse(runs[0].Value, NumberStyles.None, CultureInfo.InvariantCulture, out id))
        {
            reason = $"the number in '{System.IO.Path.GetFileName(path)}' is too large for an id";
            return false;
        }
        reason = null;
        return true;
    }

    /// <summary>The CSV: header <c>id,label</c>, one row per id in increasing order.</summary>
    public string ToCsv()
    {
        var sb = new StringBuilder("id,label\n");
        foreach (var r in Rows)
            sb.Append(r.Id.ToString(CultureInfo.InvariantCulture)).Append(',').Append(PredictionTable.CsvField(r.Label)).Append('\n');
        return sb.ToString();
    }

    [GeneratedRegex("[0-9]+", RegexOptions.CultureInvariant)]
    private static partial Regex Digits();
}
