using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace SharpVision.Cli;

/// <summary>
/// Typed options for the commands, each declared once with its help text and default. Values are checked while
/// parsing and fail Keras-style, naming the option, what is allowed and what was received
/// (<c>--batch must be an integer &gt;= 1. Received: --batch=0</c>); System.CommandLine shows the defaults in --help.
/// </summary>
internal static class Flags
{
    public static Option<int> Int(string name, string description, int defaultValue, int min = int.MinValue, int max = int.MaxValue) =>
        new(name) { Description = description, HelpName = "N", Arity = ArgumentArity.ExactlyOne, DefaultValueFactory = _ => defaultValue, CustomParser = r => ParseInt(r, min, max) };

    public static Option<int?> IntOrNull(string name, string description, int min = int.MinValue, int max = int.MaxValue) =>
        new(name) { Description = description, HelpName = "N", Arity = ArgumentArity.ExactlyOne, CustomParser = r => ParseInt(r, min, max) };

    public static Option<double> Double(string name, string description, double defaultValue, double min = double.NegativeInfinity, double max = double.PositiveInfinity) =>
        new(name) { Description = description, HelpName = "F", Arity = ArgumentArity.ExactlyOne, DefaultValueFactory = _ => defaultValue, CustomParser = r => ParseDouble(r, min, max) };

    public static Option<double?> DoubleOrNull(string name, string description, double min = double.NegativeInfinity, double max = double.PositiveInfinity) =>
        new(name) { Description = description, HelpName = "F", Arity = ArgumentArity.ExactlyOne, CustomParser = r => ParseDouble(r, min, max) };

    /// <summary>One of <paramref name="allowed"/> (also offered to shell completion).</summary>
    public static Option<string> Choice(string name, string description, string defaultValue, params string[] allowed)
    {
        var option = new Option<string>(name)
        {
            Description = description,
            HelpName = allowed.Length <= 6 ? string.Join('|', allowed) : null,
            Arity = ArgumentArity.ExactlyOne,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = r => CheckChoice(r, allowed),
        };
        option.CompletionSources.Add(allowed);
        return option;
    }

    /// <summary>One of <paramref name="allowed"/>, null when left out (also offered to shell completion).</summary>
    public static Option<string?> ChoiceOrNull(string name, string description, params string[] allowed)
    {
        var option = new Option<string?>(name)
        {
            Description = description,
            HelpName = string.Join('|', allowed),
            Arity = ArgumentArity.ExactlyOne,
            CustomParser = r => CheckChoice(r, allowed),
        };
        option.CompletionSources.Add(allowed);
        return option;
    }

    private static string CheckChoice(ArgumentResult r, string[] allowed) =>
        Check(r, "one of " + string.Join(", ", allowed), v => allowed.Contains(v, StringComparer.Ordinal));

    /// <summary>Free text, null when left out.</summary>
    public static Option<string?> Text(string name, string description, string helpName = "VALUE") =>
        new(name) { Description = description, HelpName = helpName, Arity = ArgumentArity.ExactlyOne };

    /// <summary>Free text with a default.</summary>
    public static Option<string> Text(string name, string description, string defaultValue, string helpName) =>
        new(name) { Description = description, HelpName = helpName, Arity = ArgumentArity.ExactlyOne, DefaultValueFactory = _ => defaultValue };

    /// <summary>A flag: <c>--name</c> (true), <c>--name=false</c>.</summary>
    public static Option<bool> Switch(string name, string description) => new(name) { Description = description };

    /// <summary>An existing file or folder, null when left out.</summary>
    public static Option<string?> ExistingPath(string name, string description, string helpName = "PATH") =>
        new(name)
        {
            Description = description, HelpName = helpName, Arity = ArgumentArity.ExactlyOne,
            CustomParser = r => Check(r, "an existing file or folder", v => File.Exists(v) || Directory.Exists(v), v => $"{v} (not found)"),
        };

    /// <summary>An existing file (not a folder), null when left out.</summary>
    public static Option<string?> ExistingFile(string name, string description, string helpName = "FILE") =>
        new(name)
        {
            Description = description, HelpName = helpName, Arity = ArgumentArity.ExactlyOne,
            CustomParser = r => Check(r, "an existing file", File.Exists, v => $"{v} (not found)"),
        };

    /// <summary>A value that <paramref name="parse"/> turns into <typeparamref name="T"/> or refuses (null) with <paramref name="expected"/>.</summary>
    public static Option<T?> Parsed<T>(string name, string description, string helpName, string expected, Func<string, T?> parse) where T : struct =>
        new(name)
        {
            Description = description, HelpName = helpName, Arity = ArgumentArity.ExactlyOne,
            CustomParser = r =>
            {
                string text = r.Tokens[0].Value;
                if (parse(text) is { } value) return value;
                r.AddError(new InvalidOptionException(Name(r), expected, text).Message);
                return null;
            },
        };

    /// <summary>A positional argument; <paramref name="optional"/> ones are checked by the command.</summary>
    public static Argument<string?> Positional(string name, string description, bool optional = false) =>
        new(name) { Description = description, Arity = optional ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne };

    /// <summary>One or more positional arguments.</summary>
    public static Argument<string[]> Positionals(string name, string description, bool optional = false) =>
        new(name) { Description = description, Arity = optional ? ArgumentArity.ZeroOrMore : ArgumentArity.OneOrMore };

    /// <summary>Whether the user typed <paramref name="option"/> (rather than its default applying).</summary>
    public static bool Given(this ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    /// <summary>The text typed for <paramref name="option"/>, null when left out.</summary>
    public static string? Typed(this ParseResult parse, Option option) =>
        parse.GetResult(option) is { Implicit: false, Tokens.Count: > 0 } r ? r.Tokens[^1].Value : null;

    /// <summary>"E1,E2" or "MIN,MAX": two numbers separated by a comma.</summary>
    public static (double A, double B)? Pair(string text)
    {
        var parts = text.Split(',');
        return parts.Length == 2 && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double a)
            && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double b) ? (a, b) : null;
    }

    private static string Name(ArgumentResult r) => r.Parent is OptionResult o ? o.Option.Name : r.Argument.Name;

    private static int ParseInt(ArgumentResult r, int min, int max)
    {
        string text = r.Tokens[0].Value;
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= min && n <= max) return n;
        r.AddError(new InvalidOptionException(Name(r), Describe("an integer", min, max), text).Message);
        return 0;
    }

    private static double ParseDouble(ArgumentResult r, double min, double max)
    {
        string text = r.Tokens[0].Value;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) && !double.IsNaN(x) && x >= min && x <= max) return x;
        r.AddError(new InvalidOptionException(Name(r), Describe("a number", min, max), text).Message);
        return 0;
    }

    private static string Check(ArgumentResult r, string expected, Func<string, bool> valid, Func<string, string>? received = null)
    {
        string text = r.Tokens[0].Value;
        if (!valid(text)) r.AddError(new InvalidOptionException(Name(r), expected, received?.Invoke(text) ?? text).Message);
        return text;
    }

    private static string Describe(string what, double min, double max)
    {
        bool hasMin = !double.IsInfinity(min) && min != int.MinValue;
        bool hasMax = !double.IsInfinity(max) && max != int.MaxValue;
        if (hasMin && hasMax) return $"{what} from {Fmt(min)} to {Fmt(max)}";
        if (hasMin) return $"{what} >= {Fmt(min)}";
        if (hasMax) return $"{what} <= {Fmt(max)}";
        return what;
    }

    private static string Fmt(double v) => v.ToString(CultureInfo.InvariantCulture);
}
