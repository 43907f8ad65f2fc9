using SharpVision.Models;

namespace SharpVision.Tests.Models;

public class ModelSummaryTests
{
    [Fact]
    public void Smallcnn_summary_matches_keras()
    {
        using var model = SmallCnn.Create();
        var summary = ModelSummary.Build(model, 150, 3);

        Assert.Equal(3_453_121L, summary.TotalParams);
        Assert.Equal(3_453_121L, summary.TrainableParams);
        Assert.Equal(0L, summary.NonTrainableParams);
        Assert.Equal(11, summary.Rows.Count);
        Assert.Equal(new SummaryRowView("conv2d", "(None, 32, 148, 148)", 896), View(summary.Rows[0]));
        Assert.Equal(new SummaryRowView("flatten", "(None, 6272)", 0), View(summary.Rows[8]));
        Assert.Equal(new SummaryRowView("dense", "(None, 512)", 3_211_776), View(summary.Rows[9]));
        Assert.Contains("Total params: 3,453,121", summary.ToText());
        Assert.Contains("Dense(sigmoid)", summary.ToText());
    }

    [Fact]
    public void Frozen_parameters_count_as_non_trainable()
    {
        // Given smallcnn with its convolutions frozen
        using var model = SmallCnn.Create(imageSize: 64);
        foreach (var (name, p) in model.named_parameters())
            if (name.StartsWith("conv2d")) p.requires_grad = false;

        var summary = ModelSummary.Build(model, 64, 3);

        long convs = 896 + 18_496 + 73_856 + 147_584;
        Assert.Equal(convs, summary.NonTrainableParams);
        Assert.Equal(summary.TotalParams - convs, summary.TrainableParams);
        Assert.False(summary.Rows[0].Trainable);
        Assert.True(summary.Rows[^1].Trainable);
    }

    [Fact]
    public void Resnet18_summary_lists_leaf_layers_in_forward_order()
    {
        using var model = ResNet.ResNet18(numClasses: 10);
        var summary = ModelSummary.Build(model, 64, 3);

        Assert.Equal(["conv1", "bn1", "relu", "maxpool", "layer1.0.conv1"], summary.Rows.Take(5).Select(r => r.Name));
        Assert.Equal("(None, 64, 32, 32)", summary.Rows[0].ShapeText);
        Assert.Equal(new SummaryRowView("fc", "(None, 10)", 5_130), View(summary.Rows[^1]));
        Assert.Contains(summary.Rows, r => r.Name == "layer2.0.downsample.0");
        Assert.Equal(model.parameters().Sum(p => p.numel()), summary.Rows.Sum(r => r.Params));
        Assert.True(summary.BufferElements > 0);
        Assert.True(model.training);
    }

    private sealed record SummaryRowView(string Name, string Shape, long Params);

    private static SummaryRowView View(SummaryRow r) => new(r.Name, r.ShapeText, r.Params);
}
