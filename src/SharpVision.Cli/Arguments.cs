using System.Globalization;

namespace SharpVision.Cli;

/// <summary>
/// The arguments of one command: positionals, <c>--name value</c> / <c>--name=value</c> options and flags.
/// Typed getters validate as they read and fail Keras-style, naming the option, what is allowed and what
/// was received. <see cref="Finish"/> then rejects any option the command did not read.
/// </summary>
public sealed class Arguments
{
    private readonly string _command;
    private readonly List<string> _positionals = new();
    private readonly Dictionary<string, List<string>> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);
    private int _positionalsRead;

    /// <param name="command">Command name for messages ("train").</param>
    /// <param name="args">Arguments after the command name.</param>
    /// <param name="flags">Options that take no value (e.g. "--exist-ok").</param>
    public Arguments(string command, IEnumerable<string> args, params string[] flags)
    {
        _command = command;
        var flagSet = new HashSet<string>(flags.Append("--verbose").Append("--help"), StringComparer.Ordinal);
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            string a = list[i];
            if (!a.StartsWith("--", StringComparison.Ordinal) || a == "--")
            {
                _positionals.Add(a);
                continue;
            }
            string name = a, value;
            int eq = a.IndexOf('=');
            if (eq > 0)
            {
                name = a[..eq];
                value = a[(eq + 1)..];
            }
            else if (flagSet.Contains(a))
                value = "true";
            else if (i + 1 < list.Count && !(list[i + 1].StartsWith("--", StringComparison.Ordinal) && list[i + 1].Length > 2))
                value = list[++i];
            else
                throw new SharpVisionException($"{name} needs a value. Received: {name} with nothing after it");
            if (!_options.TryGetValue(name, out var values))
                _options[name] = values = new List<string>();
            values.Add(value);
        }
    }

    public bool Verbose => _options.ContainsKey("--verbose");
    public bool Help => _options.ContainsKey("--help");
    public IReadOnlyList<string> Positionals => _positionals;

    /// <summary>The next positional argument, or an error naming it.</summary>
    public string Positional(string name)
    {
        if (_positionalsRead >= _positionals.Count)
            throw new SharpVisionException($"'{_command}' needs {name}. Run 'sharpvision {_command} --help' for usage.");
        return _positionals[_positionalsRead++];
    }

    public string? OptionalPositional() => _positionalsRead < _positionals.Count ? _positionals[_positionalsRead++] : null;

    /// <summary>All remaining positional arguments (at least one).</summary>
    public IReadOnlyList<string> RemainingPositionals(string name)
    {
        if (_positionalsRead >= _positionals.Count)
            throw new SharpVisionException($"'{_command}' needs at least one {name}. Run 'sharpvision {_command} --help' for usage.");
        var rest = _positionals.Skip(_positionalsRead).ToList();
        _positionalsRead = _positionals.Count;
        return rest;
    }

    public bool Has(string name)
    {
        _known.Add(name);
        _read.Add(name);
        return _options.ContainsKey(name);
    }

    public string? String(string name)
    {
        _known.Add(name);
        _read.Add(name);
        return _options.TryGetValue(name, out var v) ? v[^1] : null;
    }

    public string String(string name, string fallback) => String(name) ?? fallback;

    public IReadOnlyList<string> All(string name)
    {
        _known.Add(name);
        _read.Add(name);
        return _options.TryGetValue(name, out var v) ? v : [];
    }

    public bool Flag(string name)
    {
        string? v = String(name);
        if (v is null) return false;
        return v.ToLowerInvariant() switch
        {
            "true" or "1" or "yes" => true,
            "false" or "0" or "no" => false,
            _ => throw new InvalidOptionException(name, "true or false", v),
        };
    }

    public int Int(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
        => IntOrNull(name, min, max) ?? fallback;

    public int? IntOrNull(string name, int min = int.MinValue, int max = int.MaxValue)
    {
        string? v = String(name);
        if (v is null) return null;
        if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) || n < min || n > max)
            throw new InvalidOptionException(name, Describe("an integer", min, max), v);
        return n;
    }

    public double Double(string name, double fallback, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
        => DoubleOrNull(name, min, max) ?? fallback;

    public double? DoubleOrNull(string name, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        string? v = String(name);
        if (v is null) return null;
        if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) || double.IsNaN(x) || x < min || x > max)
            throw new InvalidOptionException(name, Describe("a number", min, max), v);
        return x;
    }

    public string Choice(string name, string fallback, params string[] allowed)
    {
        string v = String(name) ?? fallback;
        if (!allowed.Contains(v, StringComparer.Ordinal))
            throw new InvalidOptionException(name, "one of " + string.Join(", ", allowed), v);
        return v;
    }

    /// <summary>An existing file or folder given by an option.</summary>
    public string? ExistingPath(string name)
    {
        string? v = String(name);
        if (v is not null && !File.Exists(v) && !Directory.Exists(v))
            throw new InvalidOptionException(name, "an existing file or folder", $"{v} (not found)");
        return v;
    }

    /// <summary>Fails on options or positionals the command did not read.</summary>
    public void Finish()
    {
        foreach (var name in _options.Keys)
            if (!_read.Contains(name) && name != "--verbose" && name != "--help")
                throw new SharpVisionException($"'{_command}' has no option {name}. Its options: {string.Join(", ", _known.Order())}.");
        if (_positionalsRead < _positionals.Count)
            throw new SharpVisionException($"'{_command}' did not expect '{_positionals[_positionalsRead]}'. Run 'sharpvision {_command} --help' for usage.");
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
