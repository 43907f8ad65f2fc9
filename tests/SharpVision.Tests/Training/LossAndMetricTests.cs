using SharpVision.Training;
using static TorchSharp.torch;

namespace SharpVision.Tests.Training;

public class LossAndMetricTests
{
    private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));

    [Fact]
    public void Categorical_cross_entropy_with_label_smoothing_matches_hand_computation()
    {
        // Given logits [1, 2, 3], label 2, smoothing 0.3 -> target [0.1, 0.1, 0.8]
        using var logits = tensor(new float[] { 1, 2, 3 }, [1, 3]);
        using var labels = tensor(new long[] { 2 });
        double lse = Math.Log(Math.Exp(1) + Math.Exp(2) + Math.Exp(3));
        double expected = 0.1 * (lse - 1) + 0.1 * (lse - 2) + 0.8 * (lse - 3);
        // When
        using var loss = Losses.CategoricalCrossEntropy(logits, labels, 0.3);
        // Then
        Assert.Equal(expected, loss.item<float>(), 5);
        Assert.Equal(0.707606, expected, 5);
    }

    [Fact]
    public void Categorical_cross_entropy_without_smoothing_is_negative_log_softmax_mean()
    {
        using var logits = tensor(new float[] { 0, 0, 2, 0 }, [2, 2]);
        using var labels = tensor(new long[] { 0, 0 });
        // sample 0: [0, 0] label 0 -> ln 2; sample 1: [2, 0] label 0 -> ln(e^2 + 1) - 2
        double expected = (Math.Log(2) + (Math.Log(Math.Exp(2) + 1) - 2)) / 2;
        using var loss = Losses.CategoricalCrossEntropy(logits, labels);
        Assert.Equal(expected, loss.item<float>(), 5);
    }

    [Fact]
    public void Binary_cross_entropy_uses_keras_label_smoothing()
    {
        // Given logit 0.5, label 1, smoothing 0.2 -> target 1*0.8 + 0.5*0.2 = 0.9
        using var logits = tensor(new float[] { 0.5f }, [1, 1]);
        using var labels = tensor(new long[] { 1 });
        double p = Sigmoid(0.5);
        double expected = -(0.9 * Math.Log(p) + 0.1 * Math.Log(1 - p));
        using var loss = Losses.BinaryCrossEntropy(logits, labels, 0.2);
        Assert.Equal(expected, loss.item<float>(), 5);
    }

    [Fact]
    public void Class_weights_scale_each_sample_and_divide_by_batch_size_like_keras()
    {
        // Given two binary samples, weights [1, 3]
        using var logits = tensor(new float[] { 0.5f, -1f }, [2, 1]);
        using var labels = tensor(new long[] { 1, 0 });
        using var weights = tensor(new float[] { 1f, 3f });
        double l0 = -Math.Log(Sigmoid(0.5));          // positive sample, weight 3
        double l1 = -Math.Log(1 - Sigmoid(-1));       // negative sample, weight 1
        double expected = (3 * l0 + 1 * l1) / 2;
        using var loss = Losses.Classification(logits, labels, 0, weights);
        Assert.Equal(expected, loss.item<float>(), 5);
    }

    [Fact]
    public void Accuracy_uses_logit_sign_for_binary_and_argmax_for_categorical()
    {
        using var binary = tensor(new float[] { 0.3f, -0.2f, 2f, -5f }, [4, 1]);
        using var binaryLabels = tensor(new long[] { 1, 1, 1, 0 });
        Assert.Equal(3, Metrics.CountCorrect(binary, binaryLabels));

        using var multi = tensor(new float[] { 1, 5, 0, /**/ 3, 2, 1, /**/ 0, 1, 2 }, [3, 3]);
        using var multiLabels = tensor(new long[] { 1, 1, 0 });
        Assert.Equal(1, Metrics.CountCorrect(multi, multiLabels));
        // top-2: sample 0 (1 top), sample 1 (1 second), sample 2 (0 is last) -> 2
        Assert.Equal(2, Metrics.CountTopK(multi, multiLabels, 2));
    }

    [Fact]
    public void Label_smoothing_out_of_range_is_rejected_with_the_option_name()
    {
        using var logits = zeros(1, 3);
        using var labels = tensor(new long[] { 0 });
        var e = Assert.Throws<InvalidOptionException>(() => Losses.CategoricalCrossEntropy(logits, labels, 1.5));
        Assert.Contains("TrainOptions.LabelSmoothing", e.Message);
    }
}
