using System.Globalization;
using System.Runtime.CompilerServices;

namespace SharpVision.Runs;

/// <summary>
/// args.yaml: every resolved setting, one <c>snake_case: value</c> line each, read back by --resume. Numbers, flags
/// and strings are plain scalars; an enum is its member name in lower case (<c>precision: bf16</c>); a tuple is
/// <c>'a,b'</c>; a record of such values (augmentation options) is <c>'name=value,name=value'</c>.
/// </summary>
public static class ArgsYaml
{
    /// <summary>Every public property of <paramref name="s"/> (classification or detection settings) as one line.</summary>
    public static string Write<T>(T s) where T : notnull
    {
        var lines = new List<string>();
        foreach (var p in typeof(T).GetProperties().Where(p => p.CanWrite))
        {
            object? v = p.GetValue(s);
            string text = v switch
            {
                null => "null",
                bool b => b ? "true" : "false",
                Enum e => e.ToString().ToLowerInvariant(),
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => "'" + Scalar(v).Replace("'", "''") + "'",
            };
            lines.Add($"{Snake(p.Name)}: {text}");
        }
        return string.Join('\n', lines) + "\n";
    }

    /// <summary>
    /// The settings of type <typeparamref name="T"/> in <paramref name="path"/> (as <see cref="Write{T}"/> wrote them);
    /// a missing key keeps the property's default. <paramref name="writer"/> names the command in the not-found message.
    /// </summary>
    public static T Read<T>(string path, string writer) where T : class
    {
        if (!File.Exists(path))
            throw new SharpVisionException($"{path} not found: RunResume.Resume needs a run folder written by '{writer}'.");
        Dictionary<string, string?> values;
        try
        {
            values = new YamlDotNet.Serialization.DeserializerBuilder().Build()
                .Deserialize<Dictionary<string, string?>>(File.ReadAllText(path)) ?? new();
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new SharpVisionException($"{path} is not valid YAML ({e.Message}).");
        }
        // Activator rather than new(): the settings have required members, which only the compiler enforces.
        var settings = (T)Activator.CreateInstance(typeof(T))!;
        foreach (var p in typeof(T).GetProperties().Where(p => p.CanWrite))
        {
            if (!values.TryGetValue(Snake(p.Name), out var text) || text is null || text == "null") continue;
            p.SetValue(settings, Parse(text, p.PropertyType, Snake(p.Name), path));
        }
        return settings;
    }

    /// <summary>
    /// Every <c>key: value</c> of an args.yaml in file order, values as written (for display: the dashboard's settings
    /// table); empty when the file is missing or is not YAML.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ReadPairs(string path)
    {
        try
        {
            var values = new YamlDotNet.Serialization.DeserializerBuilder().Build()
                .Deserialize<Dictionary<string, string?>>(File.ReadAllText(path)) ?? new();
            return values.Select(kv => new KeyValuePair<string, string>(kv.Key, kv.Value ?? "null")).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or YamlDotNet.Core.YamlException)
        {
            return [];
        }
    }

    /// <summary>A value as the text <see cref="Parse"/> reads back: tuples comma-joined, records as name=value pairs.</summary>
    private static string Scalar(object v) => v switch
    {
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        string text => text,
        ITuple t => string.Join(',', Enumerable.Range(0, t.Length).Select(i => Scalar(t[i]!))),
        _ when IsRecordOfScalars(v.GetType()) => string.Join(',', v.GetType().GetProperties().Where(p => p.CanWrite)
            .Select(p => $"{Snake(p.Name)}={Scalar(p.GetValue(v)!)}")),
        _ => v.ToString()!,
    };

    private static object Parse(string text, Type propertyType, string key, string path)
    {
        try
        {
            return ParseValue(text, propertyType);
        }
        catch (Exception e) when (e is FormatException or OverflowException or InvalidCastException)
        {
            var type = Nullable.GetUnderlyingType(propertyType) ?? propertyType;
            throw new SharpVisionException($"{path}: {key} must be {Describe(type)}. Received: {text}");
        }
    }

    /// <summary>Text -> value of <paramref name="propertyType"/>; a FormatException when it does not fit.</summary>
    private static object ParseValue(string text, Type propertyType)
    {
        var type = Nullable.GetUnderlyingType(propertyType) ?? propertyType;
        if (type == typeof(string)) return text;
        if (type.IsEnum)
            return Enum.GetNames(type).FirstOrDefault(n => n.Equals(text, StringComparison.OrdinalIgnoreCase)) is { } name
                ? Enum.Parse(type, name) : throw new FormatException();
        if (typeof(ITuple).IsAssignableFrom(type) && type.IsValueType)
        {
            var items = type.GetGenericArguments();
            var parts = text.Split(',');
            if (parts.Length != items.Length) throw new FormatException();
            return Activator.CreateInstance(type, parts.Select((part, i) => ParseValue(part.Trim(), items[i])).ToArray())!;
        }
        if (IsRecordOfScalars(type))
        {
            object record = Activator.CreateInstance(type)!;
            var properties = type.GetProperties().Where(p => p.CanWrite).ToDictionary(p => Snake(p.Name));
            foreach (var pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var kv = pair.Split('=', 2);
                if (kv.Length != 2 || !properties.TryGetValue(kv[0].Trim(), out var p)) throw new FormatException();
                p.SetValue(record, ParseValue(kv[1].Trim(), p.PropertyType));
            }
            return record;
        }
        return Convert.ChangeType(text, type, CultureInfo.InvariantCulture);
    }

    private static string Describe(Type type) =>
        type.IsEnum ? "one of " + string.Join(", ", Enum.GetNames(type).Select(n => n.ToLowerInvariant()))
        : typeof(ITuple).IsAssignableFrom(type) ? "a comma-separated " + string.Join(",", type.GetGenericArguments().Select(t => t.Name))
        : IsRecordOfScalars(type) ? "a comma-separated list of name=value for " + type.Name
        : "a " + type.Name;

    /// <summary>A class with a parameterless constructor whose settable properties are all numbers, flags or strings.</summary>
    private static bool IsRecordOfScalars(Type type) =>
        type.IsClass && type != typeof(string) && type.GetConstructor(Type.EmptyTypes) is not null
        && type.GetProperties().Where(p => p.CanWrite).All(p => p.PropertyType.IsPrimitive || p.PropertyType == typeof(string) || p.PropertyType == typeof(decimal));

    private static string Snake(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
