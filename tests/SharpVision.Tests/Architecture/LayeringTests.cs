using System.Text;

namespace SharpVision.Tests.Architecture;

/// <summary>
/// The library's layering (STYLE.md "Data flows one way"), checked on the compiled SharpVision.dll: no two
/// SharpVision namespaces use each other (directly or around a longer loop); the lower layers (Imaging, Data,
/// Models, Evaluation) never reach Training or Api; Platform never reaches Models; Api and Diagnostics are top layers
/// that nothing else uses; and the library references neither the CLI nor Spectre.Console.
/// </summary>
public sealed class LayeringTests
{
    private static readonly Lazy<NamespaceGraph> Graph = new(() =>
        NamespaceGraph.Read(typeof(SharpVisionException).Assembly.Location, ns => ns == "SharpVision" || ns.StartsWith("SharpVision.", StringComparison.Ordinal)));

    private static bool In(string ns, string layer) =>
        ns == "SharpVision." + layer || ns.StartsWith("SharpVision." + layer + ".", StringComparison.Ordinal);

    [Fact]
    public void Graph_sees_the_library_namespaces_and_their_uses()
    {
        // Given the compiled library, when its graph is read, then it holds the known layers and a known edge
        // (the trainer calls the callbacks): a reader that saw nothing would pass every other test here.
        var graph = Graph.Value;
        Assert.Contains("SharpVision.Models", graph.Namespaces);
        Assert.Contains("SharpVision.Training", graph.Namespaces);
        Assert.Contains("SharpVision.Api", graph.Namespaces);
        Assert.Contains("SharpVision.Models", graph.Targets("SharpVision.Api"));
        Assert.Contains("SharpVision", graph.Targets("SharpVision.Data"));
    }

    [Fact]
    public void No_namespace_cycles()
    {
        var graph = Graph.Value;
        var report = new StringBuilder();
        foreach (var cycle in graph.Cycles())
        {
            report.AppendLine("cycle: " + string.Join(" <-> ", cycle));
            foreach (var from in cycle)
                foreach (var to in graph.Targets(from).Where(cycle.Contains))
                    report.AppendLine($"  {from} -> {to}: {graph.Evidence(from, to)}");
        }
        Assert.True(report.Length == 0, "Namespace cycles in SharpVision.dll:\n" + report);
    }

    [Fact]
    public void Lower_layers_never_reach_training_api_or_diagnostics()
    {
        var graph = Graph.Value;
        var rules = new List<(Func<string, bool> From, string Forbidden, Func<string, bool> To)>
        {
            (ns => In(ns, "Imaging") || In(ns, "Data") || In(ns, "Models") || In(ns, "Evaluation"), "Training",
                ns => In(ns, "Training")),
            (ns => !In(ns, "Api") && !In(ns, "Diagnostics"), "Api", ns => In(ns, "Api")),
            (ns => !In(ns, "Api") && !In(ns, "Diagnostics"), "Diagnostics", ns => In(ns, "Diagnostics")),
            (ns => In(ns, "Platform"), "Models", ns => In(ns, "Models")),
        };
        var report = new StringBuilder();
        foreach (var (from, forbidden, to) in rules)
            foreach (var ns in graph.Namespaces.Where(from))
                if (graph.PathTo(ns, to) is { } path)
                {
                    report.AppendLine($"{ns} reaches {forbidden}: {string.Join(" -> ", path)}");
                    for (int i = 0; i + 1 < path.Count; i++)
                        report.AppendLine($"  {graph.Evidence(path[i], path[i + 1])}");
                }
        Assert.True(report.Length == 0, "Forbidden namespace dependencies in SharpVision.dll:\n" + report);
    }

    [Fact]
    public void Library_references_neither_the_cli_nor_spectre_console()
    {
        var forbidden = Graph.Value.ReferencedAssemblies
            .Where(a => a.StartsWith("SharpVision.Cli", StringComparison.OrdinalIgnoreCase)
                || a.StartsWith("Spectre.Console", StringComparison.OrdinalIgnoreCase))
            .ToList();
        Assert.True(forbidden.Count == 0, "SharpVision.dll references " + string.Join(", ", forbidden));
    }

    [Fact]
    public void Library_sources_hold_no_flag_literals_and_no_spectre()
    {
        // The rule: no string literal (regular, verbatim, interpolated or raw) in src/SharpVision contains "--"
        // followed by a letter: errors and messages name the option record's property (ClassifierTrainOptions.ValSplit)
        // and the CLI turns that into its flag. Comments may mention commands and flags in prose. "Spectre" appears
        // nowhere in the library's sources or project file.
        var root = RepositoryRoot();
        if (root is null)
            return; // test binaries copied away from the sources: nothing to read
        var library = Path.Combine(root, "src", "SharpVision");
        var report = new StringBuilder();
        foreach (var file in SourceFiles(library))
        {
            string text = File.ReadAllText(file);
            string relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            foreach (var (line, literal) in CSharpStrings.FlagLiterals(text))
                report.AppendLine($"{relative}:{line}: flag in a string literal: {literal}");
            string[] lines = text.Split('\n');
            for (int i = 0; i < lines.Length; i++)
                if (lines[i].Contains("Spectre", StringComparison.OrdinalIgnoreCase))
                    report.AppendLine($"{relative}:{i + 1}: mentions Spectre: {lines[i].Trim()}");
        }
        Assert.True(report.Length == 0, "Library sources:\n" + report);
    }

    [Theory]
    [InlineData("throw new X(\"--lr\", \"a number\");", 1)]
    [InlineData("var s = $\"--pretrained {source}: {string.Join(\", \", names)}\";", 1)]
    [InlineData("var s = @\"use \"\"--out\"\" here\";", 1)]
    [InlineData("var s = \"\"\"\n  pass --exist-ok\n  \"\"\";", 1)]
    [InlineData("var s = $\"{a}-{b}\"; // --epochs in a comment\nif (--slot.Remaining == 0) { }", 0)]
    [InlineData("/// <c>--freeze</c>\nchar c = '\"'; var s = \"a -- b\";", 0)]
    public void Flag_literal_scanner_finds_flags_only_inside_strings(string source, int expected)
    {
        Assert.Equal(expected, CSharpStrings.FlagLiterals(source).Count);
    }

    private static IEnumerable<string> SourceFiles(string dir)
    {
        foreach (var file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories))
        {
            var parts = Path.GetRelativePath(dir, file).Replace('\\', '/').Split('/');
            if (parts[0] is "bin" or "obj")
                continue;
            if (file.EndsWith(".cs", StringComparison.Ordinal) || file.EndsWith(".csproj", StringComparison.Ordinal)
                || file.EndsWith(".props", StringComparison.Ordinal) || file.EndsWith(".targets", StringComparison.Ordinal))
                yield return file;
        }
    }

    private static string? RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SharpVision.sln")))
                return dir.FullName;
        return null;
    }
}

/// <summary>A small C# lexer that finds string literals holding a command-line flag (<c>--name</c>).</summary>
internal static class CSharpStrings
{
    /// <summary>(line, literal text) of every string literal whose text contains "--" followed by a letter.</summary>
    public static List<(int Line, string Literal)> FlagLiterals(string source)
    {
        var found = new List<(int, string)>();
        int i = 0, line = 1;
        Code(source, ref i, ref line, found, stopAtBrace: false);
        return found;
    }

    // Code until the end, or until the '}' closing an interpolation hole.
    private static void Code(string s, ref int i, ref int line, List<(int, string)> found, bool stopAtBrace)
    {
        int depth = 0;
        while (i < s.Length)
        {
            char c = s[i];
            if (c == '\n') { line++; i++; }
            else if (c == '/' && At(s, i + 1) == '/') { while (i < s.Length && s[i] != '\n') i++; }
            else if (c == '/' && At(s, i + 1) == '*')
            {
                i += 2;
                while (i < s.Length && !(s[i] == '*' && At(s, i + 1) == '/')) { if (s[i] == '\n') line++; i++; }
                i += 2;
            }
            else if (c == '\'')
            {
                i++;
                while (i < s.Length && s[i] != '\'') i += s[i] == '\\' ? 2 : 1;
                i++;
            }
            else if (c is '"' or '$' or '@' && StringStart(s, i) is { } start)
                Literal(s, ref i, ref line, start, found);
            else if (c == '{') { depth++; i++; }
            else if (c == '}')
            {
                if (stopAtBrace && depth == 0) return;
                depth--;
                i++;
            }
            else i++;
        }
    }

    private readonly record struct Start(int Dollars, bool Verbatim, int Quotes, int Length);

    // The prefix ($, @, $@, @$, $$...) and opening quotes of a string literal at i, or null.
    private static Start? StringStart(string s, int i)
    {
        int j = i, dollars = 0;
        bool verbatim = false;
        while (j < s.Length && (s[j] == '$' || s[j] == '@'))
        {
            if (s[j] == '$') dollars++; else verbatim = true;
            j++;
        }
        if (At(s, j) != '"') return null;
        if (i > 0 && (char.IsLetterOrDigit(s[i - 1]) || s[i - 1] == '_') && j > i) return null;
        int quotes = 0;
        while (At(s, j + quotes) == '"') quotes++;
        if (quotes == 2) quotes = 1; // "" is an empty regular string
        return new Start(dollars, verbatim, quotes >= 3 ? quotes : 1, j - i + (quotes >= 3 ? quotes : 1));
    }

    private static void Literal(string s, ref int i, ref int line, Start start, List<(int, string)> found)
    {
        int startLine = line;
        i += start.Length;
        var text = new StringBuilder();
        bool raw = start.Quotes >= 3;
        while (i < s.Length)
        {
            char c = s[i];
            if (raw && c == '"' && Repeat(s, i, '"') >= start.Quotes) { i += start.Quotes; break; }
            if (!raw && c == '"')
            {
                if (start.Verbatim && At(s, i + 1) == '"') { text.Append('"'); i += 2; continue; }
                i++;
                break;
            }
            if (!raw && !start.Verbatim && c == '\\') { text.Append(c).Append(At(s, i + 1)); i += 2; continue; }
            if (!raw && !start.Verbatim && c == '\n') break; // unterminated: resynchronise at the line end
            if (start.Dollars > 0 && c == '{')
            {
                int braces = Repeat(s, i, '{');
                if (start.Dollars == 1 && braces >= 2) { text.Append('{'); i += 2; continue; }
                if (braces >= start.Dollars)
                {
                    i += start.Dollars;
                    Code(s, ref i, ref line, found, stopAtBrace: true);
                    i += start.Dollars; // the closing brace(s)
                    text.Append("{}");
                    continue;
                }
            }
            if (c == '\n') line++;
            text.Append(c);
            i++;
        }
        string literal = text.ToString();
        for (int k = literal.IndexOf("--", StringComparison.Ordinal); k >= 0; k = literal.IndexOf("--", k + 1, StringComparison.Ordinal))
            if (char.IsAsciiLetter(At(literal, k + 2)) && (k == 0 || literal[k - 1] != '-'))
            {
                found.Add((startLine, literal.Trim()));
                break;
            }
    }

    private static int Repeat(string s, int i, char c)
    {
        int n = 0;
        while (At(s, i + n) == c) n++;
        return n;
    }

    private static char At(string s, int i) => i < s.Length ? s[i] : '\0';
}
