using SharpVision.Data;
using SharpVision.Diagnostics;
using SharpVision.Models;
using SharpVision.Platform;
using SharpVision.Tests.Platform;
using SharpVision.Tests.TestSupport;
using SharpVision.Training;
using SharpVision.Training.Callbacks;
using SharpVision.Training.Detection;
using SharpVision.Weights;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpVision.Tests.Training;

/// <summary>A fact that runs only where this CPU and libtorch can train in bf16, and says why it skips otherwise.</summary>
public sealed class Bf16FactAttribute : FactAttribute
{
    public Bf16FactAttribute()
    {
        if (MixedPrecision.Unsupported(Precision.Bf16, CpuInfo.Current) is { } why) Skip = "bf16 training unavailable: " + why;
    }
}

// Seeded from libtorch's global generator and judged against accuracy bars: runs alone (see ResumeStateTests).
[Collection("Global torch RNG")]
public class MixedPrecisionTests(ITestOutputHelper output)
{
    /// <summary>TinyClassifier's layers with a probe after the convolution recording the dtype it sees.</summary>
    private sealed class ProbedNet : nn.Module<Tensor, Tensor>
    {
        private readonly SharpVision.Models.Conv2d conv;
        private readonly TorchSharp.Modules.BatchNorm2d bn;
        private readonly TorchSharp.Modules.Linear fc;

        public ProbedNet(int classes) : base(nameof(ProbedNet))
        {
            conv = new SharpVision.Models.Conv2d(3, 8, 3, padding: 1);
            bn = nn.BatchNorm2d(8);
            fc = nn.Linear(8, classes);
            RegisterComponents();
        }

        public ScalarType? ConvOutput { get; private set; }

        public override Tensor forward(Tensor x)
        {
            var y = conv.call(x);                                   // [B, 8, H, W]
            ConvOutput = y.dtype;
            return fc.call(F.relu(bn.call(y)).mean([2, 3]));        // [B, K]
        }
    }

    /// <summary>TorchSharp's count of live tensors after each step.</summary>
    private sealed class LiveTensors : Callback
    {
        public List<long> AfterStep { get; } = [];
        public override void OnBatchEnd(int step, IReadOnlyDictionary<string, double> logs) => AfterStep.Add(Tensor.TotalCount);
    }

    /// <summary>Batches made one at a time (so the live-tensor count sees only the step's own): class c has channel c bright.</summary>
    private static IEnumerable<Batch> ColourBatches(int batches, int size, int seed)
    {
        var g = new Random(seed);
        for (int b = 0; b < batches; b++)
        {
            var x = new float[size * 3 * 8 * 8];
            var y = new long[size];
            for (int i = 0; i < size; i++)
            {
                int c = g.Next(3);
                y[i] = c;
                for (int p = 0; p < 3 * 64; p++) x[i * 192 + p] = (float)(g.NextDouble() * 0.5) + (p / 64 == c ? 1f : 0f);
            }
            yield return new Batch(tensor(x, [size, 3, 8, 8]), tensor(y), []);
        }
    }

    /// <summary>
    /// The embedded digits in memory: 8x8, one gray channel, 0..1; every fifth image for validation (360), the rest
    /// (1,437) for training, shuffled per epoch.
    /// </summary>
    private sealed class DigitsInMemory
    {
        private readonly float[][] _images;
        private readonly int[] _labels;
        private readonly int[] _train, _val;

        public DigitsInMemory()
        {
            var data = Digits.Load();
            _images = data.Images.Select(pixels => pixels.Select(v => v / (float)Digits.MaxValue).ToArray()).ToArray();
            _labels = [.. data.Labels];
            _train = Enumerable.Range(0, data.Count).Where(i => i % 5 != 0).ToArray();
            _val = Enumerable.Range(0, data.Count).Where(i => i % 5 == 0).ToArray();
        }

        public IEnumerable<Batch> Train(int epoch, int batchSize)
        {
            var order = _train.ToArray();
            new Random(epoch).Shuffle(order);
            return Batches(order, batchSize);
        }

        public IEnumerable<Batch> Validation() => Batches(_val, 128);

        private IEnumerable<Batch> Batches(int[] indices, int batchSize)
        {
            for (int start = 0; start < indices.Length; start += batchSize)
            {
                var rows = indices[start..Math.Min(indices.Length, start + batchSize)];
                var x = rows.SelectMany(i => _images[i]).ToArray();
                yield return new Batch(tensor(x, [rows.Length, 1, Digits.Side, Digits.Side]), tensor(rows.Select(i => (long)_labels[i]).ToArray()), []);
            }
        }
    }

    /// <summary>
    /// minicnn, 3 epochs of Adam at 1e-3 in batches of 32 from seed 7. At 3e-3 the last epoch's validation accuracy
    /// swung by up to 6 points between neighbouring epochs in fp32 and bf16 alike (eval-mode BatchNorm lagging a fast
    /// rate); at 1e-3, over seeds 1, 2, 3 and 7, bf16 ended within 0.9 points of fp32 and the training losses within 3 %.
    /// </summary>
    private static (double Loss, double ValAccuracy, SequentialModel Model) TrainMiniCnnOnDigits(DigitsInMemory digits, Precision precision)
    {
        random.manual_seed(7);
        var model = MiniCnn.Create(10, imageSize: Digits.Side, channels: 1);
        var trainer = new Trainer(new TrainOptions { Epochs = 3, Optimizer = "adam", LearningRate = 1e-3, Precision = precision });
        var history = trainer.Fit(model, epoch => digits.Train(epoch, 32), digits.Validation);
        return (history.Get("loss")[^1], history.Get("val_accuracy")[^1], model);
    }

    [Bf16Fact]
    public void Bf16_training_on_digits_reaches_the_accuracy_of_fp32_and_leaves_a_float32_model()
    {
        // Given the digits, when minicnn trains 3 epochs from the same seed in bf16 and in fp32
        var digits = new DigitsInMemory();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (bf16Loss, bf16, bf16Model) = TrainMiniCnnOnDigits(digits, Precision.Bf16);
        double bf16Seconds = clock.Elapsed.TotalSeconds;
        var (fp32Loss, fp32, fp32Model) = TrainMiniCnnOnDigits(digits, Precision.Fp32);
        output.WriteLine($"fp32: loss {fp32Loss:0.0000}, val_accuracy {fp32:0.0000} ({clock.Elapsed.TotalSeconds - bf16Seconds:0.0} s); " +
                         $"bf16: loss {bf16Loss:0.0000}, val_accuracy {bf16:0.0000} ({bf16Seconds:0.0} s)");
        using var _ = fp32Model;
        using var __ = bf16Model;

        // Then both learnt, bf16's validation accuracy (evaluated in float32) is within 2 points of fp32's and its
        // training loss within 10 %
        Assert.True(fp32 > 0.95, $"fp32 val_accuracy {fp32:0.000}");
        Assert.True(Math.Abs(bf16 - fp32) <= 0.02, $"bf16 val_accuracy {bf16:0.000}, fp32 {fp32:0.000}");
        Assert.True(Math.Abs(bf16Loss - fp32Loss) <= 0.1 * fp32Loss, $"bf16 loss {bf16Loss:0.0000}, fp32 {fp32Loss:0.0000}");
        // And the bf16-trained model's file stores float32 tensors only (weights and BN statistics; Int64 step counters)
        string dir = Directory.CreateTempSubdirectory("sv-bf16").FullName;
        try
        {
            string file = Path.Combine(dir, "digits.svmodel");
            var config = new ModelConfig { Architecture = MiniCnn.Name, NumClasses = 10, Classes = [.. Enumerable.Range(0, 10).Select(d => $"{d}")], Preprocessing = bf16Model.Info.Preprocessing };
            ModelFile.Save(file, bf16Model, config);
            var stored = StoredDtypes(file);
            Assert.Equal(bf16Model.state_dict().Count, stored.Count);
            Assert.All(stored, kv => Assert.True(kv.Value is ScalarType.Float32 or ScalarType.Int64, $"{kv.Key} is stored as {kv.Value}"));
            Assert.Contains(stored, kv => kv.Key.EndsWith("running_mean", StringComparison.Ordinal) && kv.Value == ScalarType.Float32);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The dtype of every tensor a .svmodel stores, read from its safetensors entry (no model rebuilt, no cast).</summary>
    internal static Dictionary<string, ScalarType> StoredDtypes(string svmodel)
    {
        using var zip = System.IO.Compression.ZipFile.OpenRead(svmodel);
        using var stream = zip.GetEntry("model.safetensors")!.Open();
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        buffer.Position = 0;
        var tensors = TorchSharp.PyBridge.Safetensors.LoadStateDict(buffer, leaveOpen: false);
        var dtypes = tensors.ToDictionary(kv => kv.Key, kv => kv.Value.dtype);
        foreach (var t in tensors.Values) t.Dispose();
        return dtypes;
    }

    [Bf16Fact]
    public void Bf16_steps_compute_in_bf16_and_update_the_float32_weights()
    {
        // Given a conv + BN + linear network, all float32 (and no other test's dropped tensors left for the finalizer,
        // which would lower the process-wide count mid-test)
        GC.Collect();
        GC.WaitForPendingFinalizers();
        random.manual_seed(3);
        using var model = new ProbedNet(3);
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

        // When it trains a few bf16 steps
        var trainer = new Trainer(new TrainOptions { Epochs = 1, Optimizer = "adam", LearningRate = 0.01, Precision = Precision.Bf16 });
        var liveTensors = new LiveTensors();
        var history = trainer.Fit(model, _ => ColourBatches(6, 16, 1), null, [liveTensors]);

        // Then the convolution ran in bf16, while every weight, BN statistic and gradient is float32 and the weights moved
        Assert.Equal(ScalarType.BFloat16, model.ConvOutput);
        foreach (var (name, value) in model.state_dict())
        {
            if (value.dtype == ScalarType.Int64) continue; // num_batches_tracked
            Assert.True(value.dtype == ScalarType.Float32, $"{name} is {value.dtype}");
            Assert.False(value.allclose(before[name], rtol: 0, atol: 0), $"{name} did not change");
        }
        foreach (var (name, p) in model.named_parameters())
            Assert.True(p.grad is { dtype: ScalarType.Float32 }, $"{name}'s gradient is {p.grad?.dtype}");
        Assert.True(double.IsFinite(history.Get("loss")[0]));
        Assert.False(Autocast.IsEnabled); // the region ended with the step
        // And no step leaves a tensor behind (after the first two, which make Adam's state and the gradients)
        Assert.Equal(6, liveTensors.AfterStep.Count);
        // (the count is process-wide: another test's tensor freed meanwhile may lower it, a leak of ours raises it)
        Assert.All(liveTensors.AfterStep.Skip(2), n => Assert.True(n <= liveTensors.AfterStep[1], $"{n} live tensors after a step, {liveTensors.AfterStep[1]} after step 2"));
        foreach (var t in before.Values) t.Dispose();
    }

    [Bf16Fact]
    public void Bf16_detection_steps_give_a_loss_close_to_fp32_and_train_the_float32_yolo_weights()
    {
        // Given a small YOLO, two images with one box each, and the same weights
        manual_seed(5);
        using var model = new YoloModel(YoloCfg.Tiny(2, 64, [(4, 4), (8, 8), (12, 12), (20, 20), (30, 30), (60, 60)], .25), "yolov3-tiny-quarter");
        var task = new DetectionTask(model, ["a", "b"]);
        using var x = rand(2, 3, 64, 64);
        using var labels = tensor(new float[] { 10, 12, 40, 50, 0, 20, 8, 60, 44, 1 }).reshape(2, 1, 5);
        model.train();

        // When the first loss is computed with a float32 and a bf16 forward pass
        float fp32Loss, bf16Loss;
        using (var scope = NewDisposeScope())
        {
            fp32Loss = task.ComputeLoss(MixedPrecision.Forward(model, x, Precision.Fp32), labels, training: true).Total.item<float>();
            var bf16Output = MixedPrecision.Forward(model, x, Precision.Bf16);
            Assert.Equal(ScalarType.Float32, bf16Output.dtype);
            bf16Loss = task.ComputeLoss(bf16Output, labels, training: true).Total.item<float>();
        }
        // Then they agree within 2 %
        Assert.True(Math.Abs(bf16Loss - fp32Loss) <= 0.02 * fp32Loss, $"bf16 loss {bf16Loss}, fp32 {fp32Loss}");

        // And three bf16 training steps keep every weight float32, move them, and lower the loss
        var firstConv = model.parameters().First().detach().clone();
        var trainer = new Trainer(new TrainOptions { Epochs = 1, Optimizer = "adam", LearningRate = 1e-3, Task = task, Precision = Precision.Bf16 });
        trainer.Fit(model, _ => Enumerable.Range(0, 3).Select(_ => new Batch(x.clone(), labels.clone(), [])), null);
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        Assert.False(model.parameters().First().allclose(firstConv, rtol: 0, atol: 0));
        firstConv.Dispose();
        using (var scope = NewDisposeScope())
        {
            float after = task.ComputeLoss(MixedPrecision.Forward(model, x, Precision.Fp32), labels, training: true).Total.item<float>();
            Assert.True(after < fp32Loss, $"loss {fp32Loss} -> {after} after 3 bf16 steps");
        }
    }

    [Fact]
    public void Bf16_on_a_cpu_without_bf16_instructions_is_refused_naming_the_option()
    {
        // Given an AVX-only CPU, a Zen 5 (AVX512-BF16) and a Sapphire Rapids-like Intel (AMX-BF16 only), from their CPUID registers
        var avxOnly = FakeCpu.AvxOnly().Read();
        var zen5 = FakeCpu.Zen5BareMetal().Read();
        var amxOnly = FakeCpu.IntelWithCaches().Read();
        Assert.True(amxOnly.HasAmxBf16 && !amxOnly.HasAvx512Bf16);

        // When bf16 is asked for on the AVX-only CPU, then the error names the option, says why, and what was received
        var e = Assert.Throws<InvalidOptionException>(() => MixedPrecision.Require(Precision.Bf16, "ClassifierTrainOptions.Precision", avxOnly));
        Assert.Equal("ClassifierTrainOptions.Precision", e.Option);
        Assert.StartsWith("ClassifierTrainOptions.Precision must be fp32 here: this CPU (unknown) has neither avx512_bf16 nor amx_bf16", e.Message);
        Assert.EndsWith(". Received: ClassifierTrainOptions.Precision=bf16", e.Message);
        Assert.StartsWith("not available: this CPU", Doctor.Bf16Training(avxOnly));
        // fp32 is fine anywhere, and either instruction set is enough for bf16 (given libtorch's autocast, which this one has)
        MixedPrecision.Require(Precision.Fp32, "ClassifierTrainOptions.Precision", avxOnly);
        Assert.True(Autocast.IsAvailable || OperatingSystem.IsWindows());
        if (Autocast.IsAvailable)
        {
            Assert.Null(MixedPrecision.Unsupported(Precision.Bf16, zen5));
            Assert.Null(MixedPrecision.Unsupported(Precision.Bf16, amxOnly));
            Assert.Equal("available (amx_bf16; mixed precision under libtorch's CPU autocast)", Doctor.Bf16Training(amxOnly));
        }
    }
}
