using System.Diagnostics;
using System.Runtime.CompilerServices;
using SharpVision.Api;
using SharpVision.Evaluation;
using SharpVision.Evaluation.Detection;
using SharpVision.Imaging;
using SharpVision.Tests.Cli;
using CliRun = SharpVision.Tests.Cli.Cli;
using SharpVision.Tests.Data;
using SharpVision.Tests.TestSupport;
using SharpVision.Weights;
using SharpVision.Weights.Keras;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SharpVision.Tests.Weights.Keras;

/// <summary>
/// /usr/bin/python3 with h5py and numpy (Debian's python3-h5py, python3-numpy): it writes Keras 2 .h5 files in
/// Keras' layout and computes reference outputs with an independent numpy forward (TestData/make_keras_fixtures.py).
/// </summary>
public static class KerasFixtures
{
    public const string Python = "/usr/bin/python3";
    public const string MissingReason = "/usr/bin/python3 with h5py and numpy not found: apt-get install python3-h5py python3-numpy";

    private static readonly Lazy<bool> Found = new(() =>
    {
        if (!File.Exists(Python)) return false;
        try { return Run(["-c", "import h5py, numpy"], throwOnError: false) == 0; }
        catch (System.ComponentModel.Win32Exception) { return false; }
    });

    public static bool Available => Found.Value;

    public static string Script([CallerFilePath] string here = "") => Path.Combine(Path.GetDirectoryName(here)!, "TestData", "make_keras_fixtures.py");

    /// <summary>Runs the fixture script with <paramref name="args"/>; returns its stdout.</summary>
    public static string Make(params string[] args)
    {
        var output = new System.Text.StringBuilder();
        Run([Script(), .. args], output: output);
        return output.ToString().Trim();
    }

    private static int Run(IReadOnlyList<string> args, bool throwOnError = true, System.Text.StringBuilder? output = null)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        start.Environment["OMP_NUM_THREADS"] = "1";
        using var p = Process.Start(start) ?? throw new InvalidOperationException($"could not start {Python}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("make_keras_fixtures.py did not finish in 3 minutes");
        }
        p.WaitForExit();
        output?.Append(stdout.Result);
        if (throwOnError && p.ExitCode != 0)
            throw new InvalidOperationException($"python exited with {p.ExitCode}:\n{stderr.Result}\n{stdout.Result}");
        return p.ExitCode;
    }

    public static float[] ReadFloats(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }
}

/// <summary>A fact that runs where /usr/bin/python3 has h5py and numpy, and says why it skips otherwise.</summary>
public sealed class KerasFixtureFactAttribute : FactAttribute
{
    public KerasFixtureFactAttribute()
    {
        if (!KerasFixtures.Available) Skip = KerasFixtures.MissingReason;
    }
}

/// <summary>A theory that runs where /usr/bin/python3 has h5py and numpy, and says why it skips otherwise.</summary>
public sealed class KerasFixtureTheoryAttribute : TheoryAttribute
{
    public KerasFixtureTheoryAttribute()
    {
        if (!KerasFixtures.Available) Skip = KerasFixtures.MissingReason;
    }
}

[Collection("Console")]
public sealed class KerasImportTests(ITestOutputHelper output)
{
    // ------------------------------------------------------------------ keras-yolo3

    [KerasFixtureTheory]
    [InlineData("tiny", "yolo.h5")]
    [InlineData("tiny", "trained_weights_final.h5")]
    [InlineData("full", "yolo.h5")]
    [InlineData("full", "trained_weights_final.h5")]
    public void Import_keras_yolo3_gives_the_raw_head_outputs_of_the_keras_network(string kind, string file)
    {
        // Given keras-yolo3's network (tiny at full width, 96 px; yolov3 at 1/8 width, 64 px) with random weights and
        // BN statistics, saved as model.save (Keras 2.1 names) and as model.save_weights (tf.keras names), and
        // numpy's Keras-semantics forward of one random input
        using var dir = new TempDir();
        int size = kind == "tiny" ? 96 : 64;
        string grids = KerasFixtures.Make("yolo", dir.Path, kind, size.ToString(), "3", kind == "tiny" ? "1" : "0.125", "5");
        string svmodel = Path.Combine(dir.Path, "model.svmodel");

        // When imported as users type it
        var r = CliRun.Run("import", "keras-yolo3", Path.Combine(dir.Path, file), "--anchors", Path.Combine(dir.Path, "anchors.txt"),
            "--classes", Path.Combine(dir.Path, "classes.txt"), "--out", svmodel, "--size", size.ToString());

        // Then the imported detector's raw outputs ([1, N, 5+K], heads in keras-yolo3's order) match numpy's
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains(kind == "tiny" ? "keras-yolo3 yolov3-tiny, 13 convolutions" : "keras-yolo3 yolov3, 75 convolutions", r.Out);
        using var detector = YoloDetector.Load(svmodel);
        var model = detector.Model!;
        Assert.Equal(grids, string.Join(" ", model.Heads.Select(h => $"{h.GridH}x{h.GridW}")));
        if (kind == "tiny")
            Assert.Equal([[3, 4, 5], [1, 2, 3]], model.Heads.Select(h => h.Mask.ToArray()).ToArray());
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = tensor(KerasFixtures.ReadFloats(Path.Combine(dir.Path, "input.f32")), [1, 3, size, size]);
        var reference = KerasFixtures.ReadFloats(Path.Combine(dir.Path, "reference.f32"));
        var actual = model.call(input).data<float>().ToArray();
        Assert.Equal(reference.Length, actual.Length);
        double maxDiff = reference.Zip(actual, (a, b) => Math.Abs((double)a - b)).Max();
        output.WriteLine($"{kind} {file}: max |ours - numpy| = {maxDiff:E2} over {actual.Length} outputs (max |value| {reference.Max(Math.Abs):F3})");
        Assert.True(maxDiff < 1e-4, $"max difference {maxDiff}");
    }

    [KerasFixtureFact]
    public void Import_keras_yolo3_with_nine_anchors_for_a_tiny_file_names_both_counts()
    {
        // Given a tiny model file and a yolov3 (9-anchor) anchors file
        using var dir = new TempDir();
        KerasFixtures.Make("yolo", dir.Path, "tiny", "64", "1", "0.25", "1");
        string anchors = dir.Write("nine.txt", "10,13,  16,30,  33,23,  30,61,  62,45,  59,119,  116,90,  156,198,  373,326\n");

        // When imported
        var r = CliRun.Run("import", "keras-yolo3", Path.Combine(dir.Path, "yolo.h5"), "--anchors", anchors,
            "--classes", Path.Combine(dir.Path, "classes.txt"), "--out", Path.Combine(dir.Path, "m.svmodel"));

        // Then the error says what the file has and what the anchors imply
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("13 Conv2D layers, but keras-yolo3's yolov3 (chosen by the 9 anchors) has 75", r.Error);
    }

    [KerasFixtureFact]
    public void Imported_keras_yolo3_tiny_runs_in_detect_predict_and_evaluate_and_seeds_detect_train_weights()
    {
        // Given a keras-yolo3 tiny detector (full width, 3 classes) imported at 64 px, and a few shapes images
        using var dir = new TempDir();
        var shapes = SharpVision.Data.Detection.ShapesDataset.Generate(Path.Combine(dir.Path, "shapes"), 6, seed: 2, size: 64, valFraction: .34);
        KerasFixtures.Make("yolo", dir.Path, "tiny", "64", "3", "1", "3");
        string svmodel = Path.Combine(dir.Path, "model.svmodel");
        var imported = CliRun.Run("import", "keras-yolo3", Path.Combine(dir.Path, "trained_weights_final.h5"), "--anchors", Path.Combine(dir.Path, "anchors.txt"),
            "--classes", shapes.ClassesFile, "--out", svmodel, "--size", "64");
        Assert.True(imported.ExitCode == 0, imported.Error);

        // When detect predict, detect evaluate and detect train --weights run with it
        var predict = CliRun.Run("detect", "predict", svmodel, Path.Combine(dir.Path, "shapes"), "--out", Path.Combine(dir.Path, "predict"));
        var evaluate = CliRun.Run("detect", "evaluate", svmodel, shapes.ValFile);
        var train = CliRun.Run("detect", "train", shapes.TrainFile, "--val", shapes.ValFile, "--classes", shapes.ClassesFile, "--model", "yolov3-tiny",
            "--img-size", "64", "--epochs", "1", "--batch", "4", "--workers", "0", "--weights", svmodel, "--out", Path.Combine(dir.Path, "run"));

        // Then each works as with a detector trained here
        Assert.True(predict.ExitCode == 0, predict.Error);
        Assert.True(File.Exists(Path.Combine(dir.Path, "predict", "detections.json")));
        Assert.True(evaluate.ExitCode == 0, evaluate.Error);
        Assert.Contains("AP50", evaluate.Out);
        Assert.True(train.ExitCode == 0, train.Error + train.Out);
        Assert.Contains($"Loaded every weight from {svmodel}", train.Out);
    }

    // ------------------------------------------------------------------ Sequential classifiers

    [KerasFixtureFact]
    public void Import_keras_cats_and_dogs_gives_keras_sigmoid_probability_and_folder_class_names()
    {
        // Given cats_and_dogs_small_2.h5's architecture (Keras 2.1.5, 150x150, Flatten of a 7x7x128 map, one sigmoid
        // unit) with random weights, two images, and numpy's Keras forward of their pixels / 255
        using var dir = new TempDir();
        var images = Enumerable.Range(0, 2).Select(i => CliFixture.Image(i, 10 + i, 150, 150)).ToList();
        string pixels = Path.Combine(dir.Path, "pixels.u8");
        File.WriteAllBytes(pixels, images.SelectMany(im => im.Pixels).ToArray());
        KerasFixtures.Make("classifier", dir.Path, "catsdogs", "3", pixels, "2");
        Directory.CreateDirectory(Path.Combine(dir.Path, "train", "dogs"));
        Directory.CreateDirectory(Path.Combine(dir.Path, "train", "cats"));
        var reference = KerasFixtures.ReadFloats(Path.Combine(dir.Path, "reference.f32"));   // P(dogs) per image
        string svmodel = Path.Combine(dir.Path, "catsdogs.svmodel");

        // When imported with the training folder as the class list, and the images run through the classifier
        var r = CliRun.Run("import", "keras", Path.Combine(dir.Path, "model.h5"), "--out", svmodel, "--classes", Path.Combine(dir.Path, "train"));
        Assert.True(r.ExitCode == 0, r.Error);
        for (int i = 0; i < images.Count; i++) ImageEncoder.SavePng(images[i], Path.Combine(dir.Path, "images", $"{i}.png"));
        using var classifier = Classifier.Load(svmodel);
        var predicted = classifier.Predict(Enumerable.Range(0, images.Count).Select(i => Path.Combine(dir.Path, "images", $"{i}.png")));

        // Then the classes are flow_from_directory's (sorted), and P(dogs) is Keras' sigmoid output
        Assert.Equal(["cats", "dogs"], classifier.Classes);
        var fromTensors = Probabilities(svmodel, images);
        for (int i = 0; i < images.Count; i++)
        {
            double viaTensor = Math.Abs(fromTensors[i][1] - reference[i]);
            double viaPredict = Math.Abs(predicted.Images[i].Probabilities[1] - reference[i]);
            output.WriteLine($"image {i}: Keras P(dogs) {reference[i]:F6}; |forward - Keras| {viaTensor:E2}, |predict - Keras| {viaPredict:E2}");
            Assert.True(viaTensor < 1e-5, $"forward differs by {viaTensor}");
            Assert.True(viaPredict < 1e-5, $"predict differs by {viaPredict}");
            Assert.Equal(1f, predicted.Images[i].Probabilities.Sum(), 5);
        }
    }

    [KerasFixtureFact]
    public void Imported_keras_classifier_fine_tunes_with_train_weights_and_evaluates()
    {
        // Given cats_and_dogs_small_2's architecture imported with a two-class training folder and its YAML written
        using var dir = new TempDir();
        string data = TestImages.WriteFolders(Path.Combine(dir.Path, "data"), 4);
        string pixels = Path.Combine(dir.Path, "pixels.u8");
        File.WriteAllBytes(pixels, new byte[150 * 150 * 3]);
        KerasFixtures.Make("classifier", dir.Path, "catsdogs", "5", pixels, "1");
        string svmodel = Path.Combine(dir.Path, "imported.svmodel"), yaml = Path.Combine(dir.Path, "imported.yaml");
        var imported = CliRun.Run("import", "keras", Path.Combine(dir.Path, "model.h5"), "--out", svmodel, "--classes", data, "--yaml", yaml);
        Assert.True(imported.ExitCode == 0, imported.Error);

        // When it evaluates, and one epoch of train starts from its weights with its layer definition
        var evaluate = CliRun.Run("evaluate", svmodel, data, "--out", Path.Combine(dir.Path, "eval"));
        var train = CliRun.Run("train", data, "--val", data, "--model", yaml, "--weights", svmodel, "--epochs", "1", "--batch", "4",
            "--workers", "0", "--out", Path.Combine(dir.Path, "run"));

        // Then both run like for a model trained here
        Assert.True(evaluate.ExitCode == 0, evaluate.Error);
        Assert.Contains("accuracy", evaluate.Out);
        Assert.True(train.ExitCode == 0, train.Error + train.Out);
        Assert.Contains($"Loaded every weight from {svmodel}", train.Out);
        Assert.Equal(["blue", "red"], ModelFile.ReadConfig(svmodel).Classes);
    }

    [KerasFixtureFact]
    public void Import_keras_with_batchnorm_strided_same_convs_and_flatten_gives_keras_softmax_probabilities()
    {
        // Given a Keras 2.2-style Sequential (config.layers) using every supported layer: 'same' convs (stride 1 and 2),
        // BatchNormalization on a map and after Flatten (eps 0.01), tanh Activation, a 'same' max pool that pads,
        // Flatten of a 3x3x5 map, Dense without bias, Dropout, softmax over 4 classes
        using var dir = new TempDir();
        var images = Enumerable.Range(0, 3).Select(i => CliFixture.Image(i, 20 + i, 28, 28)).ToList();
        string pixels = Path.Combine(dir.Path, "pixels.u8");
        File.WriteAllBytes(pixels, images.SelectMany(im => im.Pixels).ToArray());
        KerasFixtures.Make("classifier", dir.Path, "mixed", "4", pixels, "3");
        var reference = KerasFixtures.ReadFloats(Path.Combine(dir.Path, "reference.f32"));
        string classes = dir.Write("names.txt", "a\nb\nc\nd\n");
        string svmodel = Path.Combine(dir.Path, "mixed.svmodel");

        // When imported and run on the same pixels
        var r = CliRun.Run("import", "keras", Path.Combine(dir.Path, "model.h5"), "--out", svmodel, "--classes", classes);
        Assert.True(r.ExitCode == 0, r.Error);
        var probabilities = Probabilities(svmodel, images);

        // Then the probabilities are Keras'
        double maxDiff = 0;
        for (int i = 0; i < images.Count; i++)
            for (int k = 0; k < 4; k++) maxDiff = Math.Max(maxDiff, Math.Abs(probabilities[i][k] - reference[i * 4 + k]));
        output.WriteLine($"mixed: max |ours - Keras| = {maxDiff:E2} over {images.Count}x4 probabilities");
        Assert.True(maxDiff < 1e-5, $"max difference {maxDiff}");
        Assert.Equal(["a", "b", "c", "d"], ModelFile.ReadConfig(svmodel).Classes);
    }

    [KerasFixtureFact]
    public void Import_keras_with_an_unsupported_layer_names_it_its_class_and_the_supported_list()
    {
        // Given a Sequential with a LeakyReLU layer
        using var dir = new TempDir();
        string pixels = Path.Combine(dir.Path, "pixels.u8");
        File.WriteAllBytes(pixels, new byte[16 * 16 * 3]);
        KerasFixtures.Make("classifier", dir.Path, "unsupported", "1", pixels, "1");

        // When imported
        var r = CliRun.Run("import", "keras", Path.Combine(dir.Path, "model.h5"), "--out", Path.Combine(dir.Path, "m.svmodel"));

        // Then one line names the layer, its class and what is supported
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("layer 'leaky_re_lu_1' (LeakyReLU) is not supported; supported layers: Conv2D, MaxPooling2D", r.Error);
        Assert.False(File.Exists(Path.Combine(dir.Path, "m.svmodel")));
    }

    [KerasFixtureFact]
    public void Import_keras_of_a_save_weights_file_says_it_has_no_architecture()
    {
        // Given keras-yolo3's model.save_weights file (weights only)
        using var dir = new TempDir();
        KerasFixtures.Make("yolo", dir.Path, "tiny", "64", "1", "0.25", "1");

        // When imported as a Sequential classifier
        var r = CliRun.Run("import", "keras", Path.Combine(dir.Path, "trained_weights_final.h5"), "--out", Path.Combine(dir.Path, "m.svmodel"));

        // Then the error says why
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("no model_config attribute: a model.save_weights file holds weights but no architecture", r.Error);
    }

    [Fact]
    public void Flattened_dense_kernel_on_a_3x5x4_map_equals_keras_channels_last_flatten_then_dense()
    {
        // Given a [C=4, H=3, W=5] map and a Keras Dense kernel [H*W*C, 6] whose rows follow Keras' (h, w, c) Flatten
        using var scope = NewDisposeScope();
        var generator = new Generator(42);
        var map = randn([4, 3, 5], generator: generator);                                  // [C, H, W]
        var kerasKernel = randn([3 * 5 * 4, 6], generator: generator);                      // [H*W*C, units]
        var kerasOutput = map.permute(1, 2, 0).reshape(1, -1).matmul(kerasKernel);          // Keras: channels-last flatten, x @ W

        // When the kernel is permuted for our channels-first Flatten
        var ours = KerasSequentialImporter.FlattenedDenseKernel(kerasKernel, 4, 3, 5);      // [units, C*H*W]
        var ourOutput = map.reshape(1, -1).matmul(ours.t());

        // Then both Dense outputs agree (and a transposed H/W would not: 3 != 5)
        Assert.Equal([6L, 60L], ours.shape);
        Assert.True(ourOutput.allclose(kerasOutput, rtol: 1e-5, atol: 1e-5));
        var bnVector = arange(60, dtype: float32);                                           // Keras (h, w, c) order
        var permuted = KerasSequentialImporter.FlattenedVector(bnVector, 4, 3, 5);
        Assert.Equal(map.permute(1, 2, 0).reshape(-1).argsort().shape, permuted.shape);
        Assert.Equal(1f, permuted[15].item<float>());                                        // c=1, h=0, w=0 is Keras index 1
        Assert.Equal(4f, permuted[1].item<float>());                                         // c=0, h=0, w=1 is Keras index 4
    }

    /// <summary>Our probabilities for 8-bit images at the model's size: pixels / 255, NCHW, forward, sigmoid/softmax.</summary>
    private static float[][] Probabilities(string svmodel, IReadOnlyList<RgbImage> images)
    {
        var (_, model) = ModelFile.Load(svmodel);
        using (model)
        {
            model.eval();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            int side = images[0].Width;
            var nhwc = tensor(images.SelectMany(im => im.Pixels).Select(b => b / 255f).ToArray(), [images.Count, side, side, 3]);
            var probabilities = ClassifierInference.Probabilities(model.call(nhwc.permute(0, 3, 1, 2).contiguous()));
            return Enumerable.Range(0, images.Count).Select(i => probabilities[i].data<float>().ToArray()).ToArray();
        }
    }
}
