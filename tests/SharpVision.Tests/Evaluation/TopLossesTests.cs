using SharpVision.Data;
using SharpVision.Evaluation;

namespace SharpVision.Tests.Evaluation;

public class TopLossesTests
{
    [Fact]
    public void Highest_losses_come_first_with_the_probability_of_the_actual_class()
    {
        // Given four images, two of them wrong
        string[] paths = ["a.png", "b.png", "c.png", "d.png"];
        int[] actual = [0, 1, 0, 1];
        float[][] p = [[0.9f, 0.1f], [0.8f, 0.2f], [0.3f, 0.7f], [0.4f, 0.6f]];
        double[] losses = [0.105, 1.609, 1.204, 0.511];

        // When the top 3 are selected
        var top = TopLosses.Select(paths, actual, p, losses, 3);

        // Then they are b, c, d with the predicted class, the actual-class probability and the loss
        Assert.Equal(["b.png", "c.png", "d.png"], top.Select(t => t.Path).ToArray());
        Assert.Equal(new TopLoss("b.png", 1, 0, 0.2f, 1.609), top[0]);
        Assert.True(top[0].Wrong);
        Assert.False(top[2].Wrong);
        Assert.Equal("cat / dog / 0.20\nloss 1.61  b.png", top[0].Caption(["cat", "dog"]));
    }

    [Fact]
    public void Asking_for_more_than_there_are_returns_all()
    {
        var top = TopLosses.Select(["x.png"], [0], [[1f]], [0.0], 16);

        Assert.Single(top);
    }
}

public class ModelClassAlignmentTests
{
    [Fact]
    public void Labels_are_reindexed_to_model_classes_and_unknown_ones_listed_by_path()
    {
        // Given a set read with its own classes (bird, cat, dog) and a model trained on (dog, cat)
        var found = new ClassificationDataset(
            [new("1.png", 0), new("2.png", 1), new("3.png", 2), new("4.png", 0)], ["bird", "cat", "dog"]) { Warnings = ["w"] };

        // When aligned
        var aligned = ModelClassAlignment.Align(found, ["dog", "cat"]);

        // Then cat -> 1, dog -> 0 in the model's order, and both birds are reported with their paths
        Assert.Equal([new ImageSample("2.png", 1), new ImageSample("3.png", 0)], aligned.Data.Samples);
        Assert.Equal(["dog", "cat"], aligned.Data.Classes);
        Assert.Equal(["w"], aligned.Data.Warnings);
        Assert.Equal([new UnknownLabel("1.png", "bird"), new UnknownLabel("4.png", "bird")], aligned.Unknown);
        Assert.Equal("2 images not evaluated: label not among the model's classes: 'bird' (2); e.g. 1.png, 4.png",
            ModelClassAlignment.Describe(aligned.Unknown));
    }

    [Fact]
    public void Description_shows_the_first_paths_and_how_many_more()
    {
        var unknown = Enumerable.Range(0, 7).Select(i => new UnknownLabel($"{i}.png", "owl")).ToList();

        var line = ModelClassAlignment.Describe(unknown, maxPaths: 2);

        Assert.Equal("7 images not evaluated: label not among the model's classes: 'owl' (7); e.g. 0.png, 1.png, ... (5 more)", line);
        Assert.Null(ModelClassAlignment.Describe([]));
    }
}
