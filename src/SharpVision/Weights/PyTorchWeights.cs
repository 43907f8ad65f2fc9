using System.Collections;
using System.IO.Compression;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SharpVision.Weights;

/// <summary>
/// Plain weights files shared with PyTorch: <c>.pt</c>/<c>.pth</c>/<c>.bin</c> (the zip archive
/// <c>torch.save(model.state_dict(), path)</c> writes, PyTorch 1.6 and later, Debian's 1.13 included) and
/// <c>.safetensors</c>. Keys are torchvision's, so a SharpVision resnet18 file loads with
/// <c>model.load_state_dict(torch.load(path), strict=True)</c> into <c>torchvision.models.resnet18()</c>, and back.
/// Reading never runs code from the file: the pickle is checked by <see cref="PickleGuard"/> first, then read
/// by TorchSharp.PyBridge, which only rebuilds dicts and tensors.
/// </summary>
public static class PyTorchWeights
{
    /// <summary>Extensions read as a PyTorch zip pickle.</summary>
    public static readonly IReadOnlyList<string> PickleExtensions = [".pt", ".pth", ".bin"];

    /// <summary>Extension read and written as safetensors.</summary>
    public const string SafetensorsExtension = ".safetensors";

    /// <summary>Every extension <see cref="ReadStateDict"/> accepts.</summary>
    public static IReadOnlyList<string> ReadableExtensions => [.. PickleExtensions, SafetensorsExtension];

    /// <summary>Every extension <see cref="Save"/> writes.</summary>
    public static IReadOnlyList<string> WritableExtensions => [".pt", ".pth", SafetensorsExtension];

    /// <summary>Keys under which training checkpoints commonly keep the state dict.</summary>
    private static readonly string[] CheckpointKeys = ["state_dict", "model", "model_state_dict"];

    /// <summary>
    /// Writes the module's state dict (parameters and buffers, CPU, contiguous) by extension: <c>.pt</c>/<c>.pth</c>
    /// as a PyTorch zip pickle, <c>.safetensors</c> as safetensors. Atomic: readers see the old or the new file.
    /// </summary>
    /// <exception cref="ModelFileException">An extension outside <see cref="WritableExtensions"/>.</exception>
    public static void Save(nn.Module model, string path)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (!WritableExtensions.Contains(ext))
            throw new ModelFileException($"{path}: cannot write weights with extension '{ext}'; use one of {string.Join(", ", WritableExtensions)}.");
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (key, t) in model.state_dict())
            tensors[key] = t.detach().cpu().contiguous();
        AtomicFile.Write(path, tmp =>
        {
            if (ext == SafetensorsExtension)
                Safetensors.SaveStateDict(tmp, tensors);
            else
                WriteTorchZip(tmp, tensors);
        });
    }

    /// <summary>
    /// PyBridge writes the archive torch.load reads, but deflates every entry; torch.save stores them
    /// uncompressed (random weights barely compress, and readers can map them in place). Re-pack stored, so the
    /// file is laid out like torch's own and a damaged tensor is caught by the CRC check rather than by zlib.
    /// </summary>
    private static void WriteTorchZip(string path, Dictionary<string, Tensor> tensors)
    {
        string deflated = path + ".deflated";
        try
        {
            PyTorchPickler.PickleStateDict(deflated, tensors);
            using var source = ZipFile.OpenRead(deflated);
            using var target = ZipFile.Open(path, ZipArchiveMode.Create);
            foreach (var entry in source.Entries)
            {
                using var from = entry.Open();
                using var to = target.CreateEntry(entry.FullName, CompressionLevel.NoCompression).Open();
                from.CopyTo(to);
            }
        }
        finally
        {
            File.Delete(deflated);
        }
    }

    /// <summary>
    /// Reads every tensor of a weights file into CPU tensors owned by the caller (dispose them).
    /// A checkpoint dict that wraps the state dict under "state_dict", "model" or "model_state_dict" is unwrapped.
    /// </summary>
    /// <exception cref="ModelFileException">Missing, corrupt, truncated, legacy-format or unsafe file, or an unknown extension.</exception>
    public static Dictionary<string, Tensor> ReadStateDict(string path)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (!ReadableExtensions.Contains(ext))
            throw new ModelFileException($"{path}: unknown weights file extension '{ext}'; expected one of {string.Join(", ", ReadableExtensions)}.");
        if (!File.Exists(path))
            throw new ModelFileException($"{path}: weights file not found.");
        return ext == SafetensorsExtension ? ReadSafetensors(path) : ReadPickle(path);
    }

    /// <summary>
    /// Strict, complete load (what <c>--weights FILE</c> means): every key of the model present in the file
    /// with the same shape, and nothing left over. The error names the first offending key and both shapes.
    /// </summary>
    public static void LoadStrict(nn.Module model, string path)
    {
        var tensors = ReadStateDict(path);
        try
        {
            StateDicts.LoadStrict(model, tensors, path);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    private static Dictionary<string, Tensor> ReadSafetensors(string path)
    {
        try
        {
            using var s = File.OpenRead(path);
            return Safetensors.LoadStateDict(s, leaveOpen: false);
        }
        catch (Exception e) when (e is not ModelFileException and not OutOfMemoryException)
        {
            throw new ModelFileException($"{path}: not a valid safetensors file; it is corrupt or truncated ({e.Message}).", e);
        }
    }

    private static Dictionary<string, Tensor> ReadPickle(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[4];
        int n = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (n == 4 && magic[0] == 0x80 && magic[1] <= 5)
            throw new ModelFileException($"{path}: saved in PyTorch's legacy (pre-1.6) format, which is not read here; re-save it in Python with torch.save(torch.load(path), path) using PyTorch 1.6 or later.");
        if (n < 4 || magic[0] != (byte)'P' || magic[1] != (byte)'K' || magic[2] != 3 || magic[3] != 4)
            throw new ModelFileException($"{path}: not a PyTorch weights file (expected the zip archive torch.save writes); it is corrupt, truncated or another format.");
        stream.Position = 0;

        CheckArchive(stream, path);

        Hashtable root;
        try
        {
            stream.Position = 0;
            root = PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: true);
        }
        catch (Exception e) when (e is not ModelFileException and not OutOfMemoryException)
        {
            throw new ModelFileException($"{path}: could not read the PyTorch state dict; the file is corrupt or truncated ({e.Message}).", e);
        }
        return ToStateDict(root, path);
    }

    /// <summary>
    /// Opens the zip, checks every entry against its recorded CRC-32 (so a bit flip inside a tensor is an error,
    /// not silently wrong weights), requires exactly one data.pkl, and runs <see cref="PickleGuard"/> over it.
    /// </summary>
    private static void CheckArchive(Stream stream, string path)
    {
        try
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            var pickles = zip.Entries.Where(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal)).ToList();
            if (pickles.Count != 1)
                throw new ModelFileException($"{path}: expected one data.pkl in the archive, found {pickles.Count}; not a torch.save file.");
            using (var s = pickles[0].Open())
            {
                using var buffer = new MemoryStream();
                s.CopyTo(buffer);
                PickleGuard.Check(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), path);
            }
            foreach (var entry in zip.Entries)
            {
                using var s = entry.Open();
                if (Crc32.Of(s) != entry.Crc32)
                    throw new ModelFileException($"{path}: archive entry '{entry.FullName}' fails its CRC-32 check; the file is corrupt.");
            }
        }
        catch (InvalidDataException e)
        {
            throw new ModelFileException($"{path}: the zip archive is corrupt or truncated ({e.Message}).", e);
        }
    }

    /// <summary>Takes the string -> tensor map out of what the pickle held (a state dict, or a checkpoint wrapping one).</summary>
    private static Dictionary<string, Tensor> ToStateDict(Hashtable root, string path)
    {
        var table = root;
        if (!IsStateDict(table))
        {
            var inner = CheckpointKeys.Select(k => table[k]).OfType<Hashtable>().FirstOrDefault(IsStateDict);
            if (inner is null)
            {
                DisposeTensors(root);
                string keys = string.Join(", ", table.Keys.Cast<object>().Select(k => $"'{k}'").Take(10));
                throw new ModelFileException($"{path}: holds a dict whose entries are not all tensors (keys: {keys}) and no state dict under {string.Join(", ", CheckpointKeys.Select(k => $"'{k}'"))}.");
            }
            table = inner;
        }
        var result = new Dictionary<string, Tensor>(table.Count);
        foreach (DictionaryEntry e in table)
            result[(string)e.Key] = (Tensor)e.Value!;
        if (!ReferenceEquals(table, root))
        {
            // Tensors elsewhere in the checkpoint (optimizer state, ...) are not returned: free them now.
            foreach (DictionaryEntry e in root)
                if (!ReferenceEquals(e.Value, table)) DisposeTensors(e.Value);
        }
        return result;
    }

    private static bool IsStateDict(Hashtable table) =>
        table.Count > 0 && table.Keys.Cast<object>().All(k => k is string) && table.Values.Cast<object?>().All(v => v is Tensor);

    private static void DisposeTensors(object? value)
    {
        switch (value)
        {
            case Tensor t: t.Dispose(); break;
            case IDictionary d: foreach (var v in d.Values) DisposeTensors(v); break;
            case IEnumerable list and not string: foreach (var v in list) DisposeTensors(v); break;
        }
    }
}
