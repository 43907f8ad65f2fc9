using System.Text.RegularExpressions;

namespace SharpVision.Data;

/// <summary>
/// The flat layout where the label is part of the file name (Kaggle dogs-vs-cats: <c>DIR/cat.123.jpg</c>).
/// </summary>
public static class FilenameLabelDataset
{
    private const string PatternOption = "FilenameLabelDataset.LabelPattern";
    private const string PatternExpected = "a regular expression with exactly one capture group, e.g. '^([a-z]+)_\\d+'";

    /// <summary>
    /// Reads the image files directly in <paramref name="dir"/> (sorted ordinally). The label is the text
    /// before the first '.' of the file name, or, with <paramref name="labelPattern"/>, the first capture
    /// group of that regular expression matched against the file name (extension included). Image files
    /// that give no label are not dropped silently: they are named in <see cref="ClassificationDataset.Warnings"/>.
    /// Classes are the labels found, sorted ordinally, unless <paramref name="classes"/> is given.
    /// </summary>
    /// <exception cref="InvalidOptionException">The pattern is not a valid regex or has not exactly one group.</exception>
    /// <exception cref="DatasetException">The folder does not exist.</exception>
    public static ClassificationDataset Load(string dir, string? labelPattern = null, IReadOnlyList<string>? classes = null)
    {
        Func<string, string?> labelOf = labelPattern is null ? BeforeFirstDot : CompilePattern(labelPattern);
        ImageFiles.RequireFolder(dir);

        var labelled = new List<(string File, string Label)>();
        var unmatched = new List<string>();
        foreach (var file in ImageFiles.InFolder(dir))
        {
            string name = Path.GetFileName(file);
            string? label = labelOf(name);
            if (string.IsNullOrEmpty(label)) unmatched.Add(name);
            else labelled.Add((file, label));
        }

        var (mapping, samples) = ClassMapping.Map(labelled, classes);

        var warnings = new List<string>();
        if (unmatched.Count > 0)
        {
            string rule = labelPattern is null ? "no text before the first '.'" : $"no match for {PatternOption} '{labelPattern}'";
            warnings.Add($"{unmatched.Count} image file{(unmatched.Count == 1 ? "" : "s")} skipped, {rule}: {ImageFiles.Summarize(unmatched)}");
        }
        if (mapping.UnknownWarning() is { } unknown) warnings.Add(unknown);
        return new ClassificationDataset(samples, mapping.Classes) { Source = dir, Warnings = warnings };
    }

    private static string? BeforeFirstDot(string name)
    {
        int dot = name.IndexOf('.');
        return dot > 0 ? name[..dot] : null;
    }

    private static Func<string, string?> CompilePattern(string pattern)
    {
        Regex regex;
        try
        {
            regex = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException)
        {
            throw new InvalidOptionException(PatternOption, PatternExpected, pattern);
        }
        // GetGroupNumbers includes group 0 (the whole match).
        if (regex.GetGroupNumbers().Length != 2)
            throw new InvalidOptionException(PatternOption, PatternExpected, pattern);
        int group = regex.GetGroupNumbers()[1];
        return name =>
        {
            var m = regex.Match(name);
            return m.Success && m.Groups[group].Success ? m.Groups[group].Value : null;
        };
    }
}
