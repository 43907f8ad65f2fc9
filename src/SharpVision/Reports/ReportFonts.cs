using SkiaSharp;

namespace SharpVision.Reports;

/// <summary>
/// The one font every plot and grid draws its text with. Resolved once: the family ScottPlot picks through
/// fontconfig when that family really has glyphs; otherwise a TrueType file found on disk
/// (<c>SHARPVISION_FONT</c>, then DejaVu Sans, Liberation Sans, Noto Sans, FreeSans, then any .ttf under the
/// usual font folders) registered with ScottPlot. Without this a bare machine renders plots with no text at
/// all and no error, so when nothing is found a one-line warning goes to stderr.
/// </summary>
public static class ReportFonts
{
    private static readonly Lazy<Resolved> _resolved = new(Resolve, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Folders searched for a fallback font file, in order.</summary>
    public static readonly IReadOnlyList<string> FontFolders =
    [
        "/usr/share/fonts",
        "/usr/local/share/fonts",
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".fonts"),
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local/share/fonts"),
        "/Library/Fonts",
        "/System/Library/Fonts",
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.Windows), "Fonts"),
    ];

    // Preferred fallback files, regular weight first: all cover Latin, digits and common punctuation.
    private static readonly string[] _preferredFiles =
        ["DejaVuSans.ttf", "LiberationSans-Regular.ttf", "NotoSans-Regular.ttf", "FreeSans.ttf", "Arial.ttf", "arial.ttf"];

    private sealed record Resolved(string Family, SKTypeface Typeface, SKTypeface Bold, string Source, string? Warning);

    /// <summary>Family name set as ScottPlot's default font (what plots use).</summary>
    public static string Family => _resolved.Value.Family;

    /// <summary>Typeface for text drawn directly with SkiaSharp (grids, confusion matrices).</summary>
    public static SKTypeface Typeface => _resolved.Value.Typeface;

    /// <summary>Bold variant of <see cref="Typeface"/> (the regular one when no bold is found).</summary>
    public static SKTypeface Bold => _resolved.Value.Bold;

    /// <summary>Where the font came from: "fontconfig" or the path of the registered file.</summary>
    public static string Source => _resolved.Value.Source;

    /// <summary>Set when no usable font was found: plot text will be missing.</summary>
    public static string? Warning => _resolved.Value.Warning;

    /// <summary>Resolves the font (once) and makes it ScottPlot's default; call before building a plot.</summary>
    public static void Ensure() => _ = _resolved.Value;

    /// <summary>True when the typeface has real glyphs for plain Latin text and digits.</summary>
    public static bool HasGlyphs(SKTypeface? typeface)
    {
        if (typeface is null || typeface.GlyphCount == 0) return false;
        var glyphs = typeface.GetGlyphs("Aa0.");
        return glyphs.Length == 4 && glyphs.All(g => g != 0);
    }

    /// <summary>
    /// The first font file found in <paramref name="folders"/> (searched recursively): a preferred family
    /// first, else any .ttf; null when there is none.
    /// </summary>
    public static string? FindFontFile(IEnumerable<string> folders)
    {
        var existing = folders.Where(Directory.Exists).ToArray();
        var all = existing
            .SelectMany(f => SafeEnumerate(f))
            .Where(p => p.EndsWith(".ttf", StringComparison.OrdinalIgnoreCase))
            .OrderBy(p => p, StringComparer.Ordinal)
            .ToArray();
        foreach (var name in _preferredFiles)
        {
            var hit = all.FirstOrDefault(p => string.Equals(Path.GetFileName(p), name, StringComparison.Ordinal));
            if (hit is not null) return hit;
        }
        return all.FirstOrDefault(p => HasGlyphs(SKTypeface.FromFile(p)));
    }

    private static IEnumerable<string> SafeEnumerate(string folder)
    {
        try
        {
            return Directory.EnumerateFiles(folder, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true }).ToArray();
        }
        catch (IOException) { return []; }
        catch (UnauthorizedAccessException) { return []; }
    }

    private static Resolved Resolve()
    {
        // 1. An explicit font file wins.
        var overridePath = Environment.GetEnvironmentVariable("SHARPVISION_FONT");
        if (!string.IsNullOrWhiteSpace(overridePath) && File.Exists(overridePath))
        {
            var r = Register(overridePath);
            if (r is not null) return r;
        }

        // 2. What ScottPlot found through fontconfig, if it really has glyphs.
        var family = ScottPlot.Fonts.Default;
        var typeface = string.IsNullOrEmpty(family) ? null : SKTypeface.FromFamilyName(family);
        if (HasGlyphs(typeface))
        {
            var bold = SKTypeface.FromFamilyName(family, SKFontStyle.Bold);
            return new Resolved(family, typeface!, HasGlyphs(bold) ? bold : typeface!, "fontconfig", null);
        }

        // 3. A font file on disk, registered with ScottPlot under our own family name.
        var file = FindFontFile(FontFolders);
        if (file is not null)
        {
            var r = Register(file);
            if (r is not null) return r;
        }

        // 4. The DejaVu Sans shipped inside the library, so a bare machine still gets readable plots.
        var embedded = ExtractEmbeddedFont();
        if (embedded is not null)
        {
            var r = Register(embedded);
            if (r is not null) return r with { Source = "embedded DejaVu Sans" };
        }

        const string warning = "SharpVision: no usable font found (fontconfig has none, no .ttf under the usual font folders, and the embedded one failed); " +
                               "plot text will be missing. Install fonts-dejavu-core or set SHARPVISION_FONT=/path/to/font.ttf";
        Console.Error.WriteLine(warning);
        return new Resolved(family ?? "", SKTypeface.Default, SKTypeface.Default, "none", warning);
    }

    private static string? ExtractEmbeddedFont()
    {
        try
        {
            using var stream = typeof(ReportFonts).Assembly.GetManifestResourceStream("SharpVision.DejaVuSans.ttf");
            if (stream is null) return null;
            string path = Path.Combine(Path.GetTempPath(), $"sharpvision-DejaVuSans-{stream.Length}.ttf");
            if (!File.Exists(path) || new FileInfo(path).Length != stream.Length)
            {
                Weights.AtomicFile.Write(path, tmp =>
                {
                    using var f = File.Create(tmp);
                    stream.CopyTo(f);
                });
            }
            return path;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    private static Resolved? Register(string path)
    {
        var typeface = SKTypeface.FromFile(path);
        if (!HasGlyphs(typeface)) return null;
        const string family = "SharpVision Sans";
        ScottPlot.Fonts.AddFontFile(family, path, bold: false, italic: false);
        // A bold sibling (DejaVuSans-Bold.ttf next to DejaVuSans.ttf) keeps titles bold; else reuse regular.
        var boldPath = Path.Combine(Path.GetDirectoryName(path) ?? "", Path.GetFileNameWithoutExtension(path).Replace("-Regular", "") + "-Bold.ttf");
        var bold = File.Exists(boldPath) ? SKTypeface.FromFile(boldPath) : null;
        ScottPlot.Fonts.AddFontFile(family, HasGlyphs(bold) ? boldPath : path, bold: true, italic: false);
        ScottPlot.Fonts.Default = family;
        return new Resolved(family, typeface!, HasGlyphs(bold) ? bold! : typeface!, path, null);
    }
}
