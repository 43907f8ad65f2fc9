using SharpVision.Models;
using SharpVision.Weights;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SharpVision.Tests.Weights.PyTorch;

/// <summary>
/// Round trips with Debian's PyTorch 1.13 + torchvision 0.14 (skipped, saying why, when they are absent):
/// tensors must be bit-equal (SHA-256 of each tensor's bytes on both sides) and logits on the same input within
/// 1e-4 * max(1, |reference|).
/// </summary>
public class PyTorchCrossCheckTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private readonly string _dir = Directory.CreateTempSubdirectory("sv-pytorch-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // argv: arch weights input logits_out dims...; loads with the safe loader (weights_only) and strict=True,
    // prints the SHA-256 of every tensor the torchvision model now holds.
    private const string LoadInTorchvision = """
        import sys, json, hashlib, numpy as np, torch, torchvision
        torch.set_num_threads(2)
        arch, weights, inp, out = sys.argv[1:5]
        dims = [int(d) for d in sys.argv[5:]]
        m = getattr(torchvision.models, arch)()
        m.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True), strict=True)
        m.eval()
        x = torch.from_numpy(np.fromfile(inp, dtype="<f4").reshape(dims))
        with torch.no_grad():
            m(x).numpy().astype("<f4").tofile(out)
        print(json.dumps({k: hashlib.sha256(v.contiguous().numpy().tobytes()).hexdigest() for k, v in m.state_dict().items()}))
        """;

    // argv: arch seed weights input logits_out dims...; a seeded torchvision model with non-default BN state,
    // saved with torch.save(model.state_dict()) (or wrapped in a checkpoint dict when WRAP is set). BN scales in
    // [0.25, 0.75] keep resnet50's logits near 1: with [0.5, 1.5] its 16 residual blocks reach |logit| ~ 700,
    // where float32 summation order alone differs by ~1e-3 between two correct implementations.
    private const string SaveFromTorchvision = """
        import sys, json, hashlib, numpy as np, torch, torchvision
        torch.set_num_threads(2)
        arch, seed, weights, inp, out, wrap = sys.argv[1:7]
        dims = [int(d) for d in sys.argv[7:]]
        torch.manual_seed(int(seed))
        m = getattr(torchvision.models, arch)()
        with torch.no_grad():
            for mod in m.modules():
                if isinstance(mod, torch.nn.BatchNorm2d):
                    mod.running_mean.normal_(0, 0.1); mod.running_var.uniform_(0.5, 1.5)
                    mod.weight.uniform_(0.25, 0.75); mod.bias.normal_(0, 0.1); mod.num_batches_tracked.fill_(7)
        sd = m.state_dict()
        torch.save({"epoch": 3, "optimizer": {"lr": 0.1}, wrap: sd} if wrap != "-" else sd, weights)
        m.eval()
        x = torch.from_numpy(np.fromfile(inp, dtype="<f4").reshape(dims))
        with torch.no_grad():
            m(x).numpy().astype("<f4").tofile(out)
        print(json.dumps({k: hashlib.sha256(v.contiguous().numpy().tobytes()).hexdigest() for k, v in sd.items()}))
        """;

    [PythonTorchTheory]
    [InlineData("resnet18", 2, 112)]
    [InlineData("resnet50", 1, 96)]
    public void Model_saved_by_SharpVision_loads_strictly_into_torchvision_bit_exact(string arch, int batch, int size)
    {
        // Given a SharpVision model with random weights and randomised BN statistics, saved as .pt
        manual_seed(18);
        using var model = ModelRegistry.Create(arch, new ModelOptions(1000, 224, 3));
        TensorFiles.RandomiseBatchNorm(model);
        string weights = Path.Combine(_dir, $"{arch}.pt"), input = Path.Combine(_dir, "x.f32"), logits = Path.Combine(_dir, "y.f32");
        PyTorchWeights.Save(model, weights);
        using var x = randn(batch, 3, size, size);
        TensorFiles.WriteFloat32(input, x);

        // When torchvision loads it (torch.load weights_only=True, load_state_dict strict=True) and runs the same input
        var run = PythonPeer.Run(LoadInTorchvision, [arch, weights, input, logits, $"{batch}", "3", $"{size}", $"{size}"], Timeout);

        // Then every tensor is bit-equal and the logits agree
        Assert.Equal(TensorFiles.Hashes(model), TensorFiles.ParseHashes(run.StdOut));
        using var ours = Forward(model, x);
        using var theirs = TensorFiles.ReadFloat32(logits, batch, 1000);
        AssertLogits(ours, theirs, $"C# -> Python {arch}");
    }

    [PythonTorchTheory]
    [MemberData(nameof(PyTorchWeightsTests.Payloads), MemberType = typeof(PyTorchWeightsTests))]
    public void Hostile_pickles_do_run_code_under_Python_pickle_so_the_refusal_tests_are_real(string payload)
    {
        // Given the same hand-made pickle the refusal tests use
        string marker = Path.Combine(_dir, "pwned"), path = Path.Combine(_dir, "evil.pkl");
        File.WriteAllBytes(path, HostilePickles.Pickle(payload, marker));

        // When Python's general unpickler reads it
        PythonPeer.Run("import pickle, sys\ntry:\n    pickle.load(open(sys.argv[1], 'rb'))\nexcept Exception:\n    pass", [path], Timeout);

        // Then it ran the shell command
        Assert.True(File.Exists(marker), $"{payload} did not create the marker under Python's pickle");
    }

    [PythonTorchFact]
    public void Resnet18_saved_by_torchvision_loads_strictly_into_SharpVision_bit_exact()
    {
        var (model, x, theirs, hashes) = FromTorchvision("resnet18", ResNet.ResNet18(), "-", 2, 112);
        using (model) using (x) using (theirs)
        {
            Assert.Equal(hashes, TensorFiles.Hashes(model));
            using var ours = Forward(model, x);
            AssertLogits(ours, theirs, "Python -> C# resnet18");
        }
    }

    [PythonTorchFact]
    public void Resnet50_saved_by_torchvision_loads_strictly_into_SharpVision_bit_exact()
    {
        var (model, x, theirs, hashes) = FromTorchvision("resnet50", ResNet.ResNet50(), "-", 1, 96);
        using (model) using (x) using (theirs)
        {
            Assert.Equal(hashes, TensorFiles.Hashes(model));
            using var ours = Forward(model, x);
            AssertLogits(ours, theirs, "Python -> C# resnet50");
        }
    }

    [PythonTorchTheory]
    [InlineData("state_dict")]
    [InlineData("model")]
    public void Checkpoint_dict_wrapping_the_state_dict_is_unwrapped(string key)
    {
        var (model, x, theirs, hashes) = FromTorchvision("resnet18", ResNet.ResNet18(), key, 1, 64);
        using (model) using (x) using (theirs)
            Assert.Equal(hashes, TensorFiles.Hashes(model));
    }

    [PythonTorchFact]
    public void Vgg16_saved_by_torchvision_loads_strictly_into_SharpVision_bit_exact()
    {
        // The full 1000-class vgg16 (528 MB): the classifier is most of it, so fewer classes would not make it
        // smaller, and its 411 MB classifier.0.weight is the case worth testing. The file goes to /dev/shm
        // (RAM) when there is one, and is deleted at the end; a 32 px input keeps the forward passes cheap.
        string dir = Directory.Exists("/dev/shm") ? Directory.CreateTempSubdirectory("sv-vgg-").FullName : _dir;
        try
        {
            var (model, x, theirs, hashes) = FromTorchvision("vgg16", Vgg.Vgg16(), "-", 1, 32, dir);
            using (model) using (x) using (theirs)
            {
                Assert.Equal(hashes, TensorFiles.Hashes(model));
                using var ours = Forward(model, x);
                AssertLogits(ours, theirs, "Python -> C# vgg16");
            }
        }
        finally
        {
            if (dir != _dir) Directory.Delete(dir, recursive: true);
        }
    }

    [PythonTorchFact]
    public void Resnet18_pth_from_torchvision_into_resnet50_names_first_offending_key_and_both_shapes()
    {
        var (model, x, theirs, _) = FromTorchvision("resnet18", ResNet.ResNet18(), "-", 1, 32);
        model.Dispose(); x.Dispose(); theirs.Dispose();
        using var resnet50 = ResNet.ResNet50();

        var e = Assert.Throws<ModelFileException>(() => PyTorchWeights.LoadStrict(resnet50, Path.Combine(_dir, "resnet18.pth")));

        Assert.Contains("'layer1.0.conv1.weight'", e.Message);
        Assert.Contains("[64, 64, 3, 3] in the file", e.Message);
        Assert.Contains("[64, 64, 1, 1] in the model", e.Message);
    }

    [PythonTorchFact]
    public void Whole_pickled_model_is_refused_with_advice_to_save_the_state_dict()
    {
        // Given torch.save(model): a pickle of torchvision's classes, which only an unpickler that imports code can read
        string path = Path.Combine(_dir, "whole.pth");
        PythonPeer.Run("import sys, torch, torchvision\ntorch.save(torchvision.models.resnet18(), sys.argv[1])", [path], Timeout);

        var e = Assert.Throws<ModelFileException>(() => PyTorchWeights.ReadStateDict(path));

        Assert.Contains("refused to load", e.Message);
        Assert.Contains("'torchvision.models.resnet.ResNet'", e.Message);
        Assert.Contains("torch.save(model.state_dict(), path)", e.Message);
    }

    private (ImageClassifier Model, Tensor Input, Tensor Logits, Dictionary<string, string> Hashes) FromTorchvision(
        string arch, ImageClassifier model, string wrap, int batch, int size, string? dir = null)
    {
        dir ??= _dir;
        string weights = Path.Combine(dir, $"{arch}.pth"), input = Path.Combine(dir, "x.f32"), logits = Path.Combine(dir, "y.f32");
        manual_seed(50);
        var x = randn(batch, 3, size, size);
        TensorFiles.WriteFloat32(input, x);

        // Given torchvision's model saved with torch.save(model.state_dict()), and its logits on x
        var run = PythonPeer.Run(SaveFromTorchvision, [arch, "7", weights, input, logits, wrap, $"{batch}", "3", $"{size}", $"{size}"], Timeout);

        // When SharpVision loads it strictly
        PyTorchWeights.LoadStrict(model, weights);
        return (model, x, TensorFiles.ReadFloat32(logits, batch, 1000), TensorFiles.ParseHashes(run.StdOut));
    }

    private static Tensor Forward(ImageClassifier model, Tensor x)
    {
        model.eval();
        using var noGrad = no_grad();
        return model.call(x);
    }

    private void AssertLogits(Tensor ours, Tensor theirs, string what)
    {
        var (maxDiff, within) = TensorFiles.Compare(ours, theirs);
        float largest = theirs.abs().max().item<float>();
        output.WriteLine($"{what}: largest logit difference {maxDiff:E3} (largest |logit| {largest:G4})");
        Assert.True(within, $"{what}: logits differ by up to {maxDiff:E3}, beyond 1e-4 * max(1, |b|)");
    }
}
