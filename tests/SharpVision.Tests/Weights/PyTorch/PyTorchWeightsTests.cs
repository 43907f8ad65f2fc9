using System.IO.Compression;
using System.Text;
using SharpVision.Models;
using SharpVision.Tests.TestSupport;
using SharpVision.Weights;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SharpVision.Tests.Weights.PyTorch;

/// <summary>PyTorch and safetensors weights files without the Python peer: round trips, mismatches, corrupt and hostile files.</summary>
public class PyTorchWeightsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sv-ptweights-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static TinyClassifier RandomTiny(int classes = 3)
    {
        var model = new TinyClassifier(classes);
        TensorFiles.RandomiseBatchNorm(model);
        return model;
    }

    [Theory]
    [InlineData("w.pt")]
    [InlineData("w.pth")]
    [InlineData("w.safetensors")]
    public void Saved_weights_reload_bit_exact_by_extension(string name)
    {
        // Given a model with random weights and BN statistics
        manual_seed(3);
        using var model = RandomTiny();
        string path = Path.Combine(_dir, name);

        // When saved and loaded strictly into a fresh model
        PyTorchWeights.Save(model, path);
        using var fresh = new TinyClassifier(3);
        PyTorchWeights.LoadStrict(fresh, path);

        // Then every tensor (int64 num_batches_tracked included) is bit-equal
        Assert.Equal(TensorFiles.Hashes(model), TensorFiles.Hashes(fresh));
        Assert.Equal(7L, fresh.state_dict()["bn.num_batches_tracked"].item<long>());
    }

    [Fact]
    public void Pt_file_is_a_torch_zip_archive_with_one_data_pkl_and_stored_entries()
    {
        using var model = new TinyClassifier(2);
        string path = Path.Combine(_dir, "tiny.pt");

        PyTorchWeights.Save(model, path);

        using var zip = ZipFile.OpenRead(path);
        Assert.Single(zip.Entries, e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal));
        Assert.Equal(model.state_dict().Count, zip.Entries.Count(e => e.FullName.Contains("/data/", StringComparison.Ordinal)));
        // stored uncompressed, as torch.save does
        Assert.All(zip.Entries, e => Assert.Equal(e.Length, e.CompressedLength));
    }

    [Fact]
    public void Resnet18_weights_into_resnet50_name_first_offending_key_and_both_shapes()
    {
        string path = Path.Combine(_dir, "resnet18.pt");
        using (var resnet18 = ResNet.ResNet18(numClasses: 10)) PyTorchWeights.Save(resnet18, path);
        using var resnet50 = ResNet.ResNet50(numClasses: 10);

        var e = Assert.Throws<ModelFileException>(() => PyTorchWeights.LoadStrict(resnet50, path));

        // conv1 and bn1 agree; the first block's conv1 is 3x3 in a basic block and 1x1 in a bottleneck
        Assert.Equal($"{path}: key 'layer1.0.conv1.weight' has shape [64, 64, 3, 3] in the file but [64, 64, 1, 1] in the model.", e.Message);
    }

    [Fact]
    public void Different_class_count_names_the_head_and_both_shapes()
    {
        string path = Path.Combine(_dir, "three.pth");
        using (var three = new TinyClassifier(3)) PyTorchWeights.Save(three, path);
        using var five = new TinyClassifier(5);

        var e = Assert.Throws<ModelFileException>(() => PyTorchWeights.LoadStrict(five, path));

        Assert.Contains("'fc.weight' has shape [3, 4] in the file but [5, 4] in the model", e.Message);
    }

    [Fact]
    public void Missing_key_is_named_with_the_expected_shape()
    {
        // Given a .pt state dict without fc.bias
        using var model = new TinyClassifier(3);
        var tensors = model.state_dict().Where(kv => kv.Key != "fc.bias").ToDictionary(kv => kv.Key, kv => kv.Value);
        string path = Path.Combine(_dir, "partial.pt");
        PyTorchPickler.PickleStateDict(path, tensors);

        var e = Assert.Throws<ModelFileException>(() => PyTorchWeights.LoadStrict(new TinyClassifier(3), path));

        Assert.Equal($"{path}: missing key 'fc.bias' (the model expects shape [3]).", e.Message);
    }

    [Fact]
    public void Extra_key_is_named_with_its_shape()
    {
        using var model = new TinyClassifier(3);
        var tensors = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);
        using var extra = zeros(2, 2);
        tensors["aux.weight"] = extra;
        string path = Path.Combine(_dir, "extra.safetensors");
        Safetensors.SaveStateDict(path, tensors);

        var e = Assert.Throws<ModelFileException>(() => PyTorchWeights.LoadStrict(new TinyClassifier(3), path));

        Assert.Contains("unexpected key 'aux.weight' (shape [2, 2])", e.Message);
    }

    [Theory]
    [InlineData("cut.pt")]
    [InlineData("cut.safetensors")]
    public void Truncated_file_gives_a_clear_error_naming_the_file(string name)
    {
        string path = Path.Combine(_dir, name);
        using (var model = new TinyClassifier(2)) PyTorchWeights.Save(model, path);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var e = Assert.Throws<ModelFileException>(() => PyTorchWeights.ReadStateDict(path));

        Assert.StartsWith(path + ": ", e.Message);
        Assert.Matches("corrupt|truncated", e.Message);
    }

    [Fact]
    public void Flipped_bits_inside_a_tensor_fail_the_archive_checksum()
    {
        // Given a .pt whose fc.weight bytes were damaged in place (the zip structure still intact)
        string path = Path.Combine(_dir, "flipped.pt");
        using (var model = new TinyClassifier(3)) PyTorchWeights.Save(model, path);
        var bytes = File.ReadAllBytes(path);
        int at = FindEntryData(bytes, "data/");
        bytes[at] ^= 0x5a;
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<ModelFileException>(() => PyTorchWeights.ReadStateDict(path));

        Assert.Contains("fails its CRC-32 check", e.Message);
    }

    // Offset of the first data byte of the first stored entry whose name contains <paramref name="part"/>.
    private static int FindEntryData(byte[] zip, string part)
    {
        for (int i = 0; i + 30 < zip.Length; i++)
        {
            if (zip[i] != 'P' || zip[i + 1] != 'K' || zip[i + 2] != 3 || zip[i + 3] != 4) continue;
            int nameLength = BitConverter.ToUInt16(zip, i + 26), extraLength = BitConverter.ToUInt16(zip, i + 28);
            string name = Encoding.UTF8.GetString(zip, i + 30, nameLength);
            if (name.Contains(part, StringComparison.Ordinal)) return i + 30 + nameLength + extraLength;
        }
        throw new InvalidOperationException($"no entry containing {part}");
    }

    [Fact]
    public void Unknown_extension_lists_the_allowed_ones()
    {
        string path = Path.Combine(_dir, "model.h5");
        File.WriteAllBytes(path, [1, 2, 3]);

        var read = Assert.Throws<ModelFileException>(() => PyTorchWeights.ReadStateDict(path));
        var save = Assert.Throws<ModelFileException>(() => PyTorchWeights.Save(new TinyClassifier(2), path));

        Assert.Contains("'.h5'; expected one of .pt, .pth, .bin, .safetensors", read.Message);
        Assert.Contains("'.h5'; use one of .pt, .pth, .safetensors", save.Message);
    }

    [Fact]
    public void Missing_file_is_reported_as_not_found()
    {
        string path = Path.Combine(_dir, "absent.pth");
        var e = Assert.Throws<ModelFileException>(() => PyTorchWeights.ReadStateDict(path));
        Assert.Equal($"{path}: weights file not found.", e.Message);
    }

    [Fact]
    public void Legacy_non_zip_torch_save_is_refused_with_advice_to_resave()
    {
        // The legacy format starts with a protocol-2 pickle of torch's magic number.
        string path = Path.Combine(_dir, "legacy.pth");
        File.WriteAllBytes(path, [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, (byte)'.']);

        var e = Assert.Throws<ModelFileException>(() => PyTorchWeights.ReadStateDict(path));

        Assert.Contains("legacy (pre-1.6) format", e.Message);
    }

    // Hostile pickles: each would run a shell command (creating the marker file) under Python's pickle.load.
    public static TheoryData<string> Payloads => new() { "os-system", "builtins-eval", "stack-global", "posix-system-inst" };

    [Theory]
    [MemberData(nameof(Payloads))]
    public void Malicious_pickle_is_refused_without_running_anything(string payload)
    {
        string marker = Path.Combine(_dir, "pwned");
        string path = Path.Combine(_dir, "evil.pth");
        File.WriteAllBytes(path, HostilePickles.Archive(HostilePickles.Pickle(payload, marker)));

        var e = Assert.Throws<ModelFileException>(() => PyTorchWeights.ReadStateDict(path));

        Assert.Contains("refused to load", e.Message);
        Assert.False(File.Exists(marker));
    }

    [Theory]
    [MemberData(nameof(Payloads))]
    public void PyBridge_alone_never_runs_a_malicious_pickle_either(string payload)
    {
        // Defence in depth: without our guard, PyBridge's Razorvine unpickler turns the unknown callable into an
        // inert placeholder and fails; it must not create the marker.
        string marker = Path.Combine(_dir, "pwned");
        using var stream = new MemoryStream(HostilePickles.Archive(HostilePickles.Pickle(payload, marker)));

        Assert.ThrowsAny<Exception>(() => PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: true));

        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void Guard_accepts_what_torch_save_writes()
    {
        string path = Path.Combine(_dir, "ok.pt");
        using (var model = ResNet.ResNet18(numClasses: 4)) PyTorchWeights.Save(model, path);

        var tensors = PyTorchWeights.ReadStateDict(path);

        Assert.Equal(122, tensors.Count); // 62 parameters + 60 BN buffers (3 per BN layer, 20 BN layers)
        Assert.Equal(new long[] { 4, 512 }, tensors["fc.weight"].shape);
        foreach (var t in tensors.Values) t.Dispose();
    }

    [Fact]
    public void Archive_without_data_pkl_is_not_a_torch_file()
    {
        string path = Path.Combine(_dir, "other.pt");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        using (var s = zip.CreateEntry("readme.txt").Open())
            s.Write(Encoding.UTF8.GetBytes("hello"));

        var e = Assert.Throws<ModelFileException>(() => PyTorchWeights.ReadStateDict(path));

        Assert.Contains("expected one data.pkl", e.Message);
    }
}

/// <summary>Hand-made hostile pickles (protocol 2 and 4), wrapped in a torch.save-shaped zip.</summary>
internal static class HostilePickles
{
    public static byte[] Pickle(string payload, string marker)
    {
        var p = new List<byte> { 0x80, 0x02 };
        void Text(string s) => p.AddRange(Encoding.UTF8.GetBytes(s));
        void Unicode(string s)
        {
            var b = Encoding.UTF8.GetBytes(s);
            p.Add((byte)'X');
            p.AddRange(BitConverter.GetBytes(b.Length));
            p.AddRange(b);
        }
        switch (payload)
        {
            case "os-system": // os.system("touch marker")
                Text("cos\nsystem\n(");
                Unicode($"touch {marker}");
                Text("tR.");
                break;
            case "builtins-eval": // builtins.eval("__import__('os').system('touch marker')")
                Text("cbuiltins\neval\n(");
                Unicode($"__import__('os').system('touch {marker}')");
                Text("tR.");
                break;
            case "stack-global": // protocol 4: module and name pushed as strings, then STACK_GLOBAL
                p[1] = 4;
                Unicode("os");
                Unicode("system");
                p.Add(0x93);
                Text("(");
                Unicode($"touch {marker}");
                Text("tR.");
                break;
            case "posix-system-inst": // INST builds posix.system(args) directly
                Text("(");
                Unicode($"touch {marker}");
                Text("iposix\nsystem\n.");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(payload), payload, null);
        }
        return [.. p];
    }

    public static byte[] Archive(byte[] pickle)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var s = zip.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression).Open()) s.Write(pickle);
            using (var s = zip.CreateEntry("archive/version", CompressionLevel.NoCompression).Open()) s.Write("3\n"u8);
        }
        return buffer.ToArray();
    }
}
