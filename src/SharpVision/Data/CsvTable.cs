using System.Text;

namespace SharpVision.Data;

/// <summary>
/// A minimal RFC 4180 reader: comma-separated fields, fields in double quotes may hold commas, line breaks
/// and doubled quotes (<c>""</c>); CRLF or LF line ends; blank lines are skipped.
/// </summary>
internal static class CsvTable
{
    /// <summary>One record and its 1-based row number (the header is row 1, as a spreadsheet shows it).</summary>
    public readonly record struct Row(int Number, List<string> Fields);

    public static IEnumerable<Row> Read(TextReader reader, string pathForErrors)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        int row = 0;
        bool inQuotes = false, fieldWasQuoted = false, any = false;
        int c;
        while ((c = reader.Read()) != -1)
        {
            char ch = (char)c;
            if (inQuotes)
            {
                if (ch != '"') { field.Append(ch); continue; }
                if (reader.Peek() == '"') { reader.Read(); field.Append('"'); }
                else inQuotes = false;
                continue;
            }
            switch (ch)
            {
                case '"' when field.Length == 0 && !fieldWasQuoted:
                    inQuotes = fieldWasQuoted = any = true;
                    break;
                case ',':
                    fields.Add(field.ToString());
                    field.Clear();
                    fieldWasQuoted = false;
                    any = true;
                    break;
                case '\r':
                    break; // CRLF: the '\n' ends the record; a lone '\r' is dropped.
                case '\n':
                    row++;
                    if (any || field.Length > 0)
                    {
                        fields.Add(field.ToString());
                        yield return new Row(row, fields);
                        fields = [];
                    }
                    field.Clear();
                    fieldWasQuoted = any = false;
                    break;
                default:
                    // A quote inside an unquoted field is kept as text (lenient, like Python's csv module).
                    field.Append(ch);
                    any = true;
                    break;
            }
        }
        if (inQuotes)
            throw new DatasetException($"{pathForErrors}: row {row + 1} has a quoted field that is never closed");
        if (any || field.Length > 0)
        {
            fields.Add(field.ToString());
            yield return new Row(row + 1, fields);
        }
    }
}
