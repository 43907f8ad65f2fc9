namespace SharpVision.Data;

/// <summary>The CSV layout: a table with a file-name column and a label column (Keras <c>flow_from_dataframe</c>).</summary>
public static class CsvDataset
{
    /// <summary>
    /// Reads a CSV file with a header row (RFC 4180 quoting). File paths are relative to the CSV's folder
    /// (absolute paths are kept). Header names and values are trimmed of surrounding spaces. Rows whose file
    /// is missing, whose label is empty or that are too short are skipped and reported with their row number
    /// (the header is row 1) in <see cref="ClassificationDataset.Warnings"/>. Classes are the labels found,
    /// sorted ordinally, unless <paramref name="classes"/> is given. A label is any text (digits included).
    /// </summary>
    /// <exception cref="DatasetException">The file is missing or empty, a column is missing, or a quote is unclosed.</exception>
    public static ClassificationDataset Load(string csvPath, string filenameColumn = "filename", string labelColumn = "label",
        IReadOnlyList<string>? classes = null)
    {
        if (!File.Exists(csvPath))
            throw new DatasetException($"CSV file not found: {csvPath}");
        string root = Path.GetDirectoryName(Path.GetFullPath(csvPath))!;

        using var reader = new StreamReader(csvPath, detectEncodingFromByteOrderMarks: true);
        using var rows = CsvTable.Read(reader, csvPath).GetEnumerator();
        if (!rows.MoveNext())
            throw new DatasetException($"{csvPath}: the file is empty (expected a header row with '{filenameColumn}' and '{labelColumn}')");
        var header = rows.Current.Fields.Select(h => h.Trim()).ToList();
        int fileIndex = ColumnIndex(header, filenameColumn, csvPath);
        int labelIndex = ColumnIndex(header, labelColumn, csvPath);
        int needed = Math.Max(fileIndex, labelIndex) + 1;

        var labelled = new List<(string File, string Label)>();
        var missing = new List<string>();
        var malformed = new List<string>();
        while (rows.MoveNext())
        {
            var (number, fields) = rows.Current;
            if (fields.Count < needed)
            {
                malformed.Add($"row {number} ({fields.Count} field{(fields.Count == 1 ? "" : "s")})");
                continue;
            }
            string file = fields[fileIndex].Trim();
            string label = fields[labelIndex].Trim();
            if (file.Length == 0 || label.Length == 0)
            {
                malformed.Add($"row {number} (empty {(file.Length == 0 ? filenameColumn : labelColumn)})");
                continue;
            }
            string full = Path.GetFullPath(Path.Combine(root, file));
            if (!File.Exists(full))
            {
                missing.Add($"row {number}: {file}");
                continue;
            }
            labelled.Add((full, label));
        }

        var (mapping, samples) = ClassMapping.Map(labelled, classes);

        var warnings = new List<string>();
        if (missing.Count > 0)
            warnings.Add($"{missing.Count} row{(missing.Count == 1 ? "" : "s")} of {csvPath} name a file that does not exist (skipped): {ImageFiles.Summarize(missing)}");
        if (malformed.Count > 0)
            warnings.Add($"{malformed.Count} row{(malformed.Count == 1 ? "" : "s")} of {csvPath} skipped: {ImageFiles.Summarize(malformed)}");
        if (mapping.UnknownWarning() is { } unknown) warnings.Add(unknown);
        return new ClassificationDataset(samples, mapping.Classes) { Source = csvPath, Warnings = warnings };
    }

    private static int ColumnIndex(List<string> header, string column, string csvPath)
    {
        int index = header.FindIndex(h => string.Equals(h, column, StringComparison.Ordinal));
        if (index < 0)
            throw new DatasetException(
                $"{csvPath}: no column '{column}'; the header has: {string.Join(", ", header.Select(h => $"'{h}'"))}");
        return index;
    }
}
