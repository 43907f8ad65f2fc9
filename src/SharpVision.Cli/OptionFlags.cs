using System.Text.RegularExpressions;

namespace SharpVision.Cli;

/// <summary>
/// The library names a setting by its option record's property (<c>ClassifierTrainOptions.ValSplit must be ...</c>);
/// the command line shows the flag that fills it (<c>--val-split must be ...</c>).
/// </summary>
internal static partial class OptionFlags
{
    /// <summary>Properties whose flag is not the kebab-case of their name.</summary>
    private static readonly Dictionary<string, string> Special = new(StringComparer.Ordinal)
    {
        ["ClassifierTrainOptions.Data"] = "DATA",
        ["DetectorTrainOptions.Data"] = "DATA",
        ["DetectOptions.Confidence"] = "--conf",
    };

    [GeneratedRegex(@"\b(ClassifierTrainOptions|DetectorTrainOptions|InferenceOptions|ClassifierEvaluateOptions|DetectOptions)\.([A-Z]\w*)")]
    private static partial Regex Property();

    /// <summary>The flag for "Record.Property": <c>ValSplit</c> -> <c>--val-split</c>.</summary>
    public static string Flag(string recordProperty)
    {
        if (Special.TryGetValue(recordProperty, out var flag)) return flag;
        string property = recordProperty[(recordProperty.IndexOf('.') + 1)..];
        return "--" + string.Concat(property.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
    }

    /// <summary><paramref name="message"/> with every option-record property replaced by its flag.</summary>
    public static string Translate(string message) => Property().Replace(message, m => Flag(m.Value));
}
