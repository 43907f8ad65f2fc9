namespace SharpVision.Tests.Cli;

/// <summary><c>summary --freeze</c>: the frozen view train would use, with Keras' Trainable column and footer.</summary>
[Collection("Console")]
public class SummaryCommandTests
{
    // resnet18 with 1000 classes: 11,689,512 parameters, of which the head fc holds 512 * 1000 + 1000 = 513,000.
    private const long Total = 11_689_512, Head = 512 * 1000 + 1000;

    private static string Row(string output, string layer) =>
        output.Split('\n').Single(l => l.StartsWith(layer + " ", StringComparison.Ordinal));

    [Fact]
    public void Freeze_backbone_leaves_only_the_head_parameters_trainable()
    {
        // When summary shows resnet18 with its backbone frozen
        var r = Cli.Run("summary", "resnet18", "--img-size", "32", "--freeze", "backbone");

        // Then only fc counts as trainable, every backbone layer with weights says N and fc says Y
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("Total params: 11,689,512\n", r.Out);
        Assert.Contains($"Trainable params: {Head:N0}\n", r.Out);
        Assert.Contains($"Non-trainable params: {Total - Head:N0}\n", r.Out);
        Assert.EndsWith("  N", Row(r.Out, "conv1"));
        Assert.EndsWith("  N", Row(r.Out, "layer4.1.bn2"));
        Assert.EndsWith("  Y", Row(r.Out, "fc"));
        Assert.EndsWith("  -", Row(r.Out, "maxpool"));
    }

    [Fact]
    public void Freeze_4_freezes_the_first_four_rows_conv1_bn1_relu_maxpool()
    {
        // When the first 4 rows are frozen: conv1 (64*3*7*7 = 9,408) and bn1 (64 + 64), relu and maxpool hold nothing
        var r = Cli.Run("summary", "resnet18", "--img-size", "32", "--freeze", "4");

        // Then exactly those 9,536 parameters are non-trainable and the fifth row is still trainable
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("Non-trainable params: 9,536\n", r.Out);
        Assert.Contains($"Trainable params: {Total - 9_536:N0}\n", r.Out);
        Assert.EndsWith("  N", Row(r.Out, "bn1"));
        Assert.EndsWith("  Y", Row(r.Out, "layer1.0.conv1"));
    }

    [Fact]
    public void Without_freeze_every_parameter_is_trainable()
    {
        var r = Cli.Run("summary", "resnet18", "--img-size", "32");

        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("Trainable params: 11,689,512\n", r.Out);
        Assert.Contains("Non-trainable params: 0\n", r.Out);
    }

    [Theory]
    [InlineData("first", "Received: --freeze=first")]
    [InlineData("100", "Received: --freeze=100")]
    public void Bad_freeze_value_is_refused_naming_the_option(string value, string expected)
    {
        var r = Cli.Run("summary", "resnet18", "--img-size", "32", "--freeze", value);

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(expected, r.Error);
    }
}
