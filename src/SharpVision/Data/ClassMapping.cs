namespace SharpVision.Data;

/// <summary>
/// Turns text labels into class indices: either the sorted set of labels found, or a given class list
/// (a trained model's), in which case labels outside it are collected for a warning.
/// </summary>
internal sealed class ClassMapping
{
    private readonly Dictionary<string, int> _index;
    private readonly SortedDictionary<string, int> _unknown = new(StringComparer.Ordinal);

    private ClassMapping(IReadOnlyList<string> classes)
    {
        Classes = classes;
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < classes.Count; i++)
            if (!_index.TryAdd(classes[i], i))
                throw new ArgumentException($"class '{classes[i]}' appears twice in the class list", nameof(classes));
    }

    public IReadOnlyList<string> Classes { get; }

    /// <summary>The given classes, or the distinct <paramref name="found"/> labels sorted ordinally.</summary>
    public static ClassMapping Create(IEnumerable<string> found, IReadOnlyList<string>? classes)
    {
        if (classes is not null) return new ClassMapping(classes.ToArray());
        var sorted = found.Distinct(StringComparer.Ordinal).ToList();
        sorted.Sort(StringComparer.Ordinal);
        return new ClassMapping(sorted);
    }

    /// <summary>
    /// The samples of labelled files whose label maps to a class (the others are remembered for
    /// <see cref="UnknownWarning"/>), with the mapping itself.
    /// </summary>
    public static (ClassMapping Mapping, List<ImageSample> Samples) Map(IReadOnlyList<(string File, string Label)> labelled, IReadOnlyList<string>? classes)
    {
        var mapping = Create(labelled.Select(l => l.Label), classes);
        var samples = new List<ImageSample>();
        foreach (var (file, label) in labelled)
        {
            int index = mapping.IndexOf(label);
            if (index >= 0) samples.Add(new ImageSample(file, index));
        }
        return (mapping, samples);
    }

    /// <summary>The index of <paramref name="label"/>, or -1 (and the label is remembered) when unknown.</summary>
    public int IndexOf(string label)
    {
        if (_index.TryGetValue(label, out int i)) return i;
        _unknown[label] = _unknown.GetValueOrDefault(label) + 1;
        return -1;
    }

    /// <summary>A warning listing labels not in the given class list with their image counts, if any.</summary>
    public string? UnknownWarning()
    {
        if (_unknown.Count == 0) return null;
        var parts = _unknown.Select(kv => $"'{kv.Key}' ({kv.Value} image{(kv.Value == 1 ? "" : "s")})").ToList();
        return $"{_unknown.Values.Sum()} images skipped: labels not among the {Classes.Count} known classes: "
            + ImageFiles.Summarize(parts);
    }
}
