using System.Globalization;
using System.Text;
using SharpVision.Data;
using SharpVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Training;

/// <summary>Backbone features of a data set, one row per readable image (for <c>sharpvision features</c>).</summary>
/// <param name="Files">Image path of each row.</param>
/// <param name="Labels">Class name of each row.</param>
/// <param name="Values">Row-major [N, F] float32.</param>
/// <param name="Width">F.</param>
public sealed record FeatureTable(IReadOnlyList<string> Files, IReadOnlyList<string> Labels, float[] Values, int Width)
{
    /// <summary>Rows.</summary>
    public int Count => Files.Count;
}

/// <summary>
/// Runs a classifier's backbone (<see cref="ImageClassifier.ForwardFeatures"/>, eval mode, no_grad) over a data set and
/// writes the features as CSV (<c>file,label,f0..fN-1</c>) or NumPy .npy (float32 [N, F], format 1.0, with a sidecar
/// <c>.csv</c> of <c>file,label</c> in row order), for users who feed them to another learner.
/// </summary>
public static class FeatureExport
{
    /// <summary>Extracts the features of every readable image, in data set order (unreadable images are left out).</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired (checked between batches).</exception>
    public static FeatureTable Extract(ImageClassifier model, DataLoader loader, Device? device = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loader);
        if (loader.Options.Shuffle) throw new ArgumentException("the loader must not shuffle: rows follow the data set", nameof(loader));
        model.to(device ?? CPU);
        var dataset = loader.Dataset;
        var files = new List<string>();
        var labels = new List<string>();
        var values = new List<float>();
        using var loop = BatchLoop.Evaluation(model, device, cancellationToken);
        loop.CanceledMessage = () => $"stopped after {files.Count} of {dataset.Count} images";
        foreach (var batch in loop.Batches(loader.Pass(0)))
        {
            values.AddRange(loop.Step(batch, (x, _) => model.ForwardFeatures(x).to(float32).cpu().contiguous().data<float>().ToArray())); // [B * F]
            foreach (int i in batch.Indices)
            {
                files.Add(dataset.Samples[i].Path);
                labels.Add(dataset.Classes[dataset.Samples[i].Label]);
            }
        }
        return new FeatureTable(files, labels, [.. values], model.NumFeatures);
    }

    /// <summary>Writes by extension: <c>.csv</c> or <c>.npy</c> (+ <c>.csv</c> sidecar). Returns the files written.</summary>
    /// <exception cref="InvalidOptionException">Another extension.</exception>
    public static IReadOnlyList<string> Write(FeatureTable table, string path)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        switch (ext)
        {
            case ".csv":
                WriteCsv(table, path);
                return [path];
            case ".npy":
                string sidecar = Path.ChangeExtension(path, ".csv");
                WriteNpy(table, path);
                WriteIndex(table, sidecar);
                return [path, sidecar];
            default:
                throw new InvalidOptionException("FeatureExport.Out", "a file ending in .csv or .npy", path);
        }
    }

    /// <summary>CSV with header <c>file,label,f0,...,f{F-1}</c>; values in round-trip invariant form.</summary>
    public static void WriteCsv(FeatureTable table, string path)
    {
        var sb = new StringBuilder();
        sb.Append("file,label");
        for (int j = 0; j < table.Width; j++) sb.Append(",f").Append(j.ToString(CultureInfo.InvariantCulture));
        sb.Append('\n');
        for (int i = 0; i < table.Count; i++)
        {
            sb.Append(Quote(table.Files[i])).Append(',').Append(Quote(table.Labels[i]));
            for (int j = 0; j < table.Width; j++)
                sb.Append(',').Append(table.Values[(long)i * table.Width + j].ToString("R", CultureInfo.InvariantCulture));
            sb.Append('\n');
        }
        Weights.AtomicFile.WriteAllText(path, sb.ToString());
    }

    /// <summary>
    /// NPY format 1.0: magic <c>\x93NUMPY</c>, version 1.0, a little-endian uint16 header length, then an ASCII dict
    /// padded with spaces and ending in a newline so that the data starts on a 64-byte boundary, then the
    /// little-endian float32 data in C order.
    /// </summary>
    public static void WriteNpy(FeatureTable table, string path)
    {
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({table.Count.ToString(CultureInfo.InvariantCulture)}, {table.Width.ToString(CultureInfo.InvariantCulture)}), }}";
        int preamble = 6 + 2 + 2;
        int total = preamble + dict.Length + 1;
        int padded = (total + 63) / 64 * 64;
        string header = dict + new string(' ', padded - total) + "\n";
        using var buffer = new MemoryStream();
        buffer.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        buffer.Write(BitConverter.GetBytes((ushort)header.Length));
        buffer.Write(Encoding.ASCII.GetBytes(header));
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("NPY writing assumes a little-endian machine");
        buffer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(table.Values.AsSpan()));
        Reports.SkiaImages.WriteAtomic(path, buffer.ToArray());
    }

    /// <summary>Reads a float32 2-D .npy written by <see cref="WriteNpy"/> (or NumPy): (shape, values).</summary>
    public static (int Rows, int Cols, float[] Values) ReadNpy(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
            throw new ModelFileException($"{path} is not a .npy file.");
        int headerLength = bytes[6] == 1 ? BitConverter.ToUInt16(bytes, 8) : BitConverter.ToInt32(bytes, 8);
        int start = bytes[6] == 1 ? 10 : 12;
        string header = Encoding.ASCII.GetString(bytes, start, headerLength);
        if (!header.Contains("'<f4'", StringComparison.Ordinal) || header.Contains("'fortran_order': True", StringComparison.Ordinal))
            throw new ModelFileException($"{path}: expected C-order float32 ('<f4'). Header: {header.Trim()}");
        int open = header.IndexOf('(', StringComparison.Ordinal), close = header.IndexOf(')', StringComparison.Ordinal);
        var dims = header[(open + 1)..close].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => int.Parse(d, CultureInfo.InvariantCulture)).ToArray();
        if (dims.Length != 2) throw new ModelFileException($"{path}: expected a 2-D array, got shape ({string.Join(", ", dims)}).");
        int dataStart = start + headerLength;
        var values = new float[(long)dims[0] * dims[1]];
        Buffer.BlockCopy(bytes, dataStart, values, 0, values.Length * 4);
        return (dims[0], dims[1], values);
    }

    private static void WriteIndex(FeatureTable table, string path)
    {
        var sb = new StringBuilder("file,label\n");
        for (int i = 0; i < table.Count; i++)
            sb.Append(Quote(table.Files[i])).Append(',').Append(Quote(table.Labels[i])).Append('\n');
        Weights.AtomicFile.WriteAllText(path, sb.ToString());
    }

    private static string Quote(string v) =>
        v.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + v.Replace("\"", "\"\"") + "\"" : v;
}
