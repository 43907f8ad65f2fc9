using System.Text.Json.Nodes;
using SharpVision.Reports;
using SharpVision.Runs;
using SharpVision.Training.Callbacks;

namespace SharpVision.Dashboard;

/// <summary>
/// What a runs folder holds, read from its files only (the same for a run training in this process and for one in
/// another): training runs (a folder with results.csv, status.json or args.yaml), their evaluations (a folder with
/// metrics.json written by <c>evaluate</c>, found inside the run or naming the run's model) and their images.
/// Ids are paths relative to the runs folder with '/' (<c>train/exp2</c>); every file named in the JSON is a
/// <c>/files/</c> path under the same root.
/// </summary>
internal sealed class RunCatalog(string root)
{
    // Deep enough for runs/train/expN, runs/demo/expN/train and an evaluation inside a run; a data set exported into
    // the runs folder (demo's digits) is not walked file by file, and a runs folder pointed at a home directory by
    // mistake costs a bounded walk.
    private const int MaxDepth = 4;
    private const int MaxFolders = 4000;

    private static readonly string[] RunMarkers = ["results.csv", RunStatus.FileName, "args.yaml"];
    private static readonly string[] Images = [".png", ".jpg", ".jpeg"];

    /// <summary>The runs folder, absolute.</summary>
    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>The training runs and evaluation folders under <see cref="Root"/>.</summary>
    public (List<string> Runs, List<string> Evaluations) Scan()
    {
        var runs = new List<string>();
        var evaluations = new List<string>();
        if (!Directory.Exists(Root)) return (runs, evaluations);
        var pending = new Stack<(string Dir, int Depth)>();
        pending.Push((Root, 0));
        int visited = 0;
        while (pending.Count > 0 && visited++ < MaxFolders)
        {
            var (dir, depth) = pending.Pop();
            if (File.Exists(Path.Combine(dir, "metrics.json"))) evaluations.Add(dir);
            else if (dir != Root && RunMarkers.Any(m => File.Exists(Path.Combine(dir, m)))) runs.Add(dir);
            if (depth >= MaxDepth) continue;
            IEnumerable<string> children;
            try { children = Directory.EnumerateDirectories(dir).ToList(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            foreach (var child in children.OrderDescending(StringComparer.Ordinal))
            {
                string name = Path.GetFileName(child);
                // Weights are not shown; hidden folders are nobody's runs; links could lead out of the root.
                if (name.StartsWith('.') || name == "weights" || new DirectoryInfo(child).LinkTarget is not null) continue;
                pending.Push((child, depth + 1));
            }
        }
        runs.Sort(StringComparer.Ordinal);
        return (runs, evaluations);
    }

    /// <summary>The run's id: its path under the root with '/'.</summary>
    public string Id(string dir) => Path.GetRelativePath(Root, dir).Replace('\\', '/');

    /// <summary>The folder of a run id, or null when the id does not name a run under the root.</summary>
    public string? Find(string id)
    {
        if (SafePath.Resolve(Root, id) is not { } dir || !Directory.Exists(dir)) return null;
        return RunMarkers.Any(m => File.Exists(Path.Combine(dir, m))) ? dir : null;
    }

    /// <summary>One line of the runs list: id, task, state, progress, speed, best metric.</summary>
    public JsonObject Summary(string dir)
    {
        var status = RunStatus.Of(dir);
        var rows = ReadCsv(Path.Combine(dir, "results.csv"));
        string task = File.Exists(Path.Combine(dir, RunStatus.FileName)) ? status.Task
            : File.Exists(Path.Combine(dir, "anchors.txt")) || rows.Any(r => r.ContainsKey("val_map50")) ? RunStatus.Detection : RunStatus.Classification;
        var o = new JsonObject
        {
            ["id"] = Id(dir),
            ["task"] = task,
            ["state"] = status.State.ToString().ToLowerInvariant(),
            ["message"] = status.Message,
            ["epochs_completed"] = status.Epochs > 0 ? status.EpochsCompleted : rows.Count,
            ["epochs"] = status.Epochs > 0 ? status.Epochs : EpochsFromArgs(dir),
            ["step"] = status.Step,
            ["steps"] = status.Steps,
            ["images_per_second"] = Number(status.ImagesPerSecond),
            ["memory_mb"] = Number(status.MemoryMb),
            ["updated"] = status.Updated == default ? null : status.Updated.ToString("O"),
        };
        if (Best(rows) is { } best) o["best"] = best;
        return o;
    }

    /// <summary>
    /// Everything the page shows for one run: the summary, every logged metric per epoch (results.csv and system.csv),
    /// step rows (steps.csv), settings (args.yaml), evaluations and images.
    /// </summary>
    public JsonObject Detail(string dir, IReadOnlyList<string> evaluations)
    {
        var o = Summary(dir);
        o["metrics"] = Columns(Merge(ReadCsv(Path.Combine(dir, "results.csv")), ReadCsv(Path.Combine(dir, RunMonitor.SystemCsv))), "epoch");
        var steps = ReadCsv(Path.Combine(dir, "steps.csv"));
        if (steps.Count > 0) o["steps_log"] = Columns(steps, null);
        var args = new JsonArray();
        foreach (var (key, value) in ArgsYaml.ReadPairs(Path.Combine(dir, "args.yaml")))
            args.Add(new JsonArray(key, value));
        o["args"] = args;
        var evals = new JsonArray();
        foreach (var eval in evaluations.Where(e => BelongsTo(e, dir)))
            evals.Add(Evaluation(eval));
        o["evaluations"] = evals;
        var images = new JsonArray();
        foreach (var file in ImagesIn(dir))
            images.Add(new JsonObject { ["name"] = Path.GetFileName(file), ["url"] = FileUrl(file) });
        o["images"] = images;
        return o;
    }

    /// <summary>A change stamp of what <see cref="Detail"/> reads, so an unchanged run is not sent again.</summary>
    public string Stamp(string dir, IReadOnlyList<string> evaluations)
    {
        var parts = new List<string> { RunStatus.Of(dir).State.ToString() };
        foreach (var name in new[] { "results.csv", RunMonitor.SystemCsv, "steps.csv", RunStatus.FileName, "args.yaml" })
            parts.Add(FileStamp(Path.Combine(dir, name)));
        foreach (var eval in evaluations.Where(e => BelongsTo(e, dir)))
            parts.Add(eval + FileStamp(Path.Combine(eval, "metrics.json")));
        foreach (var image in ImagesIn(dir))
            parts.Add(image + FileStamp(image));
        return string.Join('|', parts);
    }

    private static string FileStamp(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? $"{info.Length}:{info.LastWriteTimeUtc.Ticks}" : "-";
    }

    /// <summary>An evaluation belongs to a run when it lies inside the run's folder or its metrics.json names a model inside it.</summary>
    private bool BelongsTo(string evaluation, string run)
    {
        string prefix = Path.TrimEndingDirectorySeparator(run) + Path.DirectorySeparatorChar;
        if (evaluation.StartsWith(prefix, StringComparison.Ordinal)) return true;
        return ModelOf(evaluation) is { } model && model.StartsWith(prefix, StringComparison.Ordinal);
    }

    /// <summary>
    /// The model an evaluation scored, absolute. <c>evaluate</c> writes it absolute; an older relative path is tried
    /// against the runs folder's parent (the usual working directory: <c>runs/train/exp/weights/best.svmodel</c>) and
    /// this process's working directory.
    /// </summary>
    private string? ModelOf(string evaluation)
    {
        if (ReadJson(Path.Combine(evaluation, "metrics.json"))?["model"]?.GetValue<string>() is not { } model) return null;
        if (Path.IsPathRooted(model)) return Path.GetFullPath(model);
        foreach (var baseDir in new[] { Path.GetDirectoryName(Root), Environment.CurrentDirectory })
            if (baseDir is not null && Path.GetFullPath(Path.Combine(baseDir, model)) is var full && (File.Exists(full) || Directory.Exists(full)))
                return full;
        return null;
    }

    private JsonObject Evaluation(string dir)
    {
        var metrics = ReadJson(Path.Combine(dir, "metrics.json"));
        var o = new JsonObject
        {
            ["id"] = Id(dir),
            ["accuracy"] = metrics?["accuracy"]?.DeepClone(),
            ["loss"] = metrics?["loss"]?.DeepClone(),
            ["data"] = metrics?["data"]?.DeepClone(),
        };
        foreach (var (key, name) in new[] { ("confusion_matrix", "confusion_matrix.png"), ("top_losses", "top_losses.png"), ("report", "report.txt") })
            if (File.Exists(Path.Combine(dir, name))) o[key] = FileUrl(Path.Combine(dir, name));
        return o;
    }

    /// <summary>The run's own images: curves.png and the detection recipe's validation predictions.</summary>
    private static IEnumerable<string> ImagesIn(string dir) =>
        Directory.Exists(dir)
            ? Directory.EnumerateFiles(dir).Where(f => Images.Contains(Path.GetExtension(f).ToLowerInvariant())).Order(StringComparer.Ordinal)
            : [];

    private string FileUrl(string file) => "/files/" + string.Join('/', Id(file).Split('/').Select(Uri.EscapeDataString));

    private static int? EpochsFromArgs(string dir)
    {
        var args = ArgsYaml.ReadPairs(Path.Combine(dir, "args.yaml")).ToDictionary(kv => kv.Key, kv => kv.Value);
        if (args.TryGetValue("fine_tune", out var ft) && ft.Trim('\'').Split(',') is [var a, var b] && int.TryParse(a, out int e1) && int.TryParse(b, out int e2))
            return e1 + e2;
        return args.TryGetValue("epochs", out var text) && int.TryParse(text, out int epochs) ? epochs : null;
    }

    /// <summary>The best value of the metric a checkpoint would monitor: val_map50 (max), else val_accuracy (max), else val_loss (min).</summary>
    private static JsonObject? Best(IReadOnlyList<IReadOnlyDictionary<string, double>> rows)
    {
        foreach (var (metric, higher) in new[] { ("val_map50", true), ("val_accuracy", true), ("accuracy", true), ("val_loss", false), ("loss", false) })
        {
            var values = rows.Where(r => r.TryGetValue(metric, out double v) && double.IsFinite(v)).ToList();
            if (values.Count == 0) continue;
            var best = higher ? values.MaxBy(r => r[metric])! : values.MinBy(r => r[metric])!;
            return new JsonObject { ["metric"] = metric, ["value"] = best[metric], ["epoch"] = best.TryGetValue("epoch", out double e) ? e : null };
        }
        return null;
    }

    private static IReadOnlyList<IReadOnlyDictionary<string, double>> ReadCsv(string path)
    {
        try { return File.Exists(path) ? TrainingCurves.FromCsv(path) : []; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
    }

    /// <summary>results.csv's rows with system.csv's columns of the same epoch added (a resumed epoch's last row wins).</summary>
    private static List<IReadOnlyDictionary<string, double>> Merge(IReadOnlyList<IReadOnlyDictionary<string, double>> results,
        IReadOnlyList<IReadOnlyDictionary<string, double>> system)
    {
        var byEpoch = new Dictionary<double, IReadOnlyDictionary<string, double>>();
        foreach (var row in system)
            if (row.TryGetValue("epoch", out double e)) byEpoch[e] = row;
        return results.Select(row =>
        {
            var merged = new Dictionary<string, double>(row);
            if (row.TryGetValue("epoch", out double e) && byEpoch.TryGetValue(e, out var extra))
                foreach (var (key, value) in extra) merged.TryAdd(key, value);
            return (IReadOnlyDictionary<string, double>)merged;
        }).ToList();
    }

    /// <summary>Rows as columns (<c>{"loss": [..], ...}</c>), NaN and missing cells as null (JSON has no NaN).</summary>
    private static JsonObject Columns(IReadOnlyList<IReadOnlyDictionary<string, double>> rows, string? first)
    {
        var names = rows.SelectMany(r => r.Keys).Distinct().OrderBy(k => k == first ? 0 : 1).ThenBy(k => k, StringComparer.Ordinal).ToList();
        var o = new JsonObject();
        foreach (var name in names)
        {
            var column = new JsonArray();
            foreach (var row in rows) column.Add(row.TryGetValue(name, out double v) ? Number(v) : null);
            o[name] = column;
        }
        return o;
    }

    private static JsonNode? Number(double? v) => v is { } x && double.IsFinite(x) ? JsonValue.Create(x) : null;

    private static JsonNode? ReadJson(string path)
    {
        try { return File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) : null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException) { return null; }
    }
}
