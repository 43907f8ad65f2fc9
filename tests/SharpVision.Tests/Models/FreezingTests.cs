using SharpVision.Data;
using SharpVision.Models;
using SharpVision.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Tests.Models;

public class FreezingTests
{
    private static ImageClassifier ResNet18(int classes = 2) => ModelRegistry.Create("resnet18", new ModelOptions(classes, 32));

    [Fact]
    public void Freeze_first_N_layers_makes_summary_count_exactly_those_rows_non_trainable()
    {
        // Given a resnet18 and its summary rows
        using var model = ResNet18();
        var before = ModelSummary.Build(model, 32, 3);

        // When the first 12 layers are frozen
        int rows = Freezing.FreezeFirst(model, 12);

        // Then the first 12 rows are frozen, the others trainable, and the counts add up to those rows' parameters
        var after = ModelSummary.Build(model, 32, 3);
        Assert.Equal(before.Rows.Count, rows);
        Assert.All(after.Rows.Take(12).Where(r => r.Params > 0), r => Assert.False(r.Trainable, r.Name));
        Assert.All(after.Rows.Skip(12).Where(r => r.Params > 0), r => Assert.True(r.Trainable, r.Name));
        Assert.Equal(after.Rows.Take(12).Sum(r => r.Params), after.NonTrainableParams);
        Assert.Equal(before.TotalParams, after.TrainableParams + after.NonTrainableParams);
        // and the table's Trainable column says N on a frozen row (conv1) and Y on a trainable one (fc)
        var lines = after.ToText().Split('\n');
        Assert.EndsWith("  N", lines.Single(l => l.StartsWith("conv1 ", StringComparison.Ordinal)));
        Assert.EndsWith("  Y", lines.Single(l => l.StartsWith("fc ", StringComparison.Ordinal)));
    }

    [Fact]
    public void Freeze_beyond_the_layer_count_is_refused_naming_the_option()
    {
        using var model = ResNet18();
        var e = Assert.Throws<InvalidOptionException>(() => Freezing.FreezeFirst(model, 10_000));
        Assert.Contains("Freezing.Freeze", e.Message);
        Assert.Contains("Received: Freezing.Freeze=10000", e.Message);
    }

    [Fact]
    public void Freeze_backbone_leaves_only_the_head_trainable()
    {
        using var model = ResNet18(3);
        Freezing.FreezeBackbone(model);
        var (trainable, frozen) = Freezing.Count(model);
        Assert.Equal(512 * 3 + 3, trainable);
        Assert.True(Freezing.IsBackboneFrozen(model));
        Assert.Equal(ModelSummary.Build(model, 32, 3).NonTrainableParams, frozen);
    }

    [Fact]
    public void Unfreeze_top_one_block_trains_only_the_last_residual_block_and_the_head()
    {
        using var model = ResNet18();
        Freezing.UnfreezeTop(model, 1);
        var named = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.requires_grad);
        Assert.True(named["layer4.1.conv2.weight"]);
        Assert.True(named["fc.weight"]);
        Assert.False(named["layer4.0.conv1.weight"]);
        Assert.False(named["conv1.weight"]);
        Assert.Equal("layer4.1", Freezing.Blocks(model)[^1].Name);
    }

    [Fact]
    public void Layer_groups_put_the_head_first_and_cover_every_trainable_parameter_once()
    {
        using var model = ResNet18();
        var groups = Freezing.LayerGroups(model, 2);
        Assert.Equal(3, groups.Count);
        Assert.Equal(2, groups[0].Count); // fc.weight, fc.bias
        Assert.Equal(model.parameters().Count(), groups.Sum(g => g.Count));
        Assert.Equal(groups.Sum(g => g.Count), groups.SelectMany(g => g).Select(p => p.Handle).Distinct().Count());
        var rates = DiscriminativeRates.Rates(3, 1e-3);
        Assert.Equal([1e-3, 1e-4, 1e-5], rates.Select(r => Math.Round(r, 12)));
    }

    [Fact]
    public void Frozen_batchnorm_keeps_its_running_statistics_through_a_training_epoch()
    {
        // Given a resnet18 with a frozen backbone and a copy of one BatchNorm's running mean
        torch.manual_seed(3);
        using var model = ResNet18();
        Freezing.FreezeBackbone(model);
        var bn = (BatchNorm2d)model.named_modules().First(m => m.name == "layer2.0.bn1").module;
        using var meanBefore = bn.running_mean!.clone();
        using var fcBefore = model.named_parameters().First(p => p.name == "fc.weight").parameter.clone();

        // When the trainer runs an epoch (it calls model.train())
        var batches = Enumerable.Range(0, 3).Select(i => new Batch(randn(4, 3, 32, 32) * 3 + 1, tensor(new long[] { 0, 1, 0, 1 }).to(int64), [])).ToList();
        new Trainer(new TrainOptions { Epochs = 1, LearningRate = 0.01 }).Fit(model, _ => batches, null);

        // Then the running statistics are unchanged, the layer is in eval mode, and the head did learn
        Assert.True(bn.running_mean!.eq(meanBefore).all().item<bool>());
        Assert.False(bn.training);
        Assert.False(model.named_parameters().First(p => p.name == "fc.weight").parameter.eq(fcBefore).all().item<bool>());
    }

    [Fact]
    public void Trainable_batchnorm_still_updates_its_running_statistics()
    {
        torch.manual_seed(3);
        using var model = ResNet18();
        var bn = (BatchNorm2d)model.named_modules().First(m => m.name == "layer2.0.bn1").module;
        using var meanBefore = bn.running_mean!.clone();
        var batches = new List<Batch> { new(randn(4, 3, 32, 32) * 3 + 1, tensor(new long[] { 0, 1, 0, 1 }), []) };
        new Trainer(new TrainOptions { Epochs = 1, LearningRate = 0.01 }).Fit(model, _ => batches, null);
        Assert.False(bn.running_mean!.eq(meanBefore).all().item<bool>());
    }
}
