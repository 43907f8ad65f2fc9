using System.Globalization;

namespace SharpVision.Bench;

/// <summary>The options every bench understands; a bench ignores those it does not use (null = its default).</summary>
public sealed record BenchArgs
{
    public int? Images { get; init; }
    public int? Reps { get; init; }
    public int? Steps { get; init; }
    public int? Workers { get; init; }
    public int? TorchThreads { get; init; }
    public int? Prefetch { get; init; }
    public int Seed { get; init; } = 1;

    /// <summary>Removes <c>NAME VALUE</c> from <paramref name="args"/> and returns VALUE (null when absent), for a bench's own options.</summary>
    public static string? Take(List<string> args, string name)
    {
        int i = args.IndexOf(name);
        if (i < 0) return null;
        if (i + 1 >= args.Count) throw new InvalidOptionException(name, "a value", "(missing)");
        string value = args[i + 1];
        args.RemoveRange(i, 2);
        return value;
    }

    /// <summary>Removes <c>NAME N</c> from <paramref name="args"/> and returns N (null when absent), an integer &gt;= <paramref name="min"/>.</summary>
    public static int? TakeInt(List<string> args, string name, int min = 0)
    {
        if (Take(args, name) is not { } text) return null;
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= min) return v;
        throw new InvalidOptionException(name, $"an integer >= {min}", text);
    }

    /// <summary>Parses <c>--name N</c> pairs; every value is a non-negative integer.</summary>
    /// <exception cref="InvalidOptionException">An unknown option or a bad value.</exception>
    public static BenchArgs Parse(ReadOnlySpan<string> args)
    {
        var result = new BenchArgs();
        string[] known = ["--images", "--reps", "--steps", "--workers", "--torch-threads", "--prefetch", "--seed"];
        for (int i = 0; i < args.Length; i += 2)
        {
            string name = args[i];
            if (Array.IndexOf(known, name) < 0)
                throw new InvalidOptionException("option", $"one of {string.Join(", ", known)}", name);
            if (i + 1 >= args.Length || !int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out int v))
                throw new InvalidOptionException(name, "a non-negative integer", i + 1 < args.Length ? args[i + 1] : "(missing)");
            result = name switch
            {
                "--images" => result with { Images = v },
                "--reps" => result with { Reps = v },
                "--steps" => result with { Steps = v },
                "--workers" => result with { Workers = v },
                "--torch-threads" => result with { TorchThreads = v },
                "--prefetch" => result with { Prefetch = v },
                _ => result with { Seed = v },
            };
        }
        return result;
    }
}
