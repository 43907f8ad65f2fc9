using SharpVision.Cli;

namespace SharpVision.Tests.Cli;

public class ArgumentsTests
{
    [Fact]
    public void Options_flags_and_positionals_are_read_in_both_forms()
    {
        var a = new Arguments("train", ["data", "--batch", "16", "--lr=0.01", "--exist-ok", "--augment", "zoom_range=0.2"], "--exist-ok");

        Assert.Equal("data", a.Positional("DATA"));
        Assert.Equal(16, a.Int("--batch", 32, min: 1));
        Assert.Equal(0.01, a.Double("--lr", 1e-3, min: 0));
        Assert.True(a.Flag("--exist-ok"));
        Assert.Equal("zoom_range=0.2", a.String("--augment"));
        a.Finish();
    }

    [Fact]
    public void Bad_value_names_option_allowed_and_received()
    {
        var a = new Arguments("train", ["--layout", "folder", "--batch", "0"]);

        var layout = Assert.Throws<InvalidOptionException>(() => a.Choice("--layout", "folders", "folders", "filenames", "csv"));
        Assert.Equal("--layout must be one of folders, filenames, csv. Received: --layout=folder", layout.Message);
        var batch = Assert.Throws<InvalidOptionException>(() => a.Int("--batch", 32, min: 1));
        Assert.Equal("--batch must be an integer >= 1. Received: --batch=0", batch.Message);
    }

    [Fact]
    public void Unknown_option_is_refused_and_known_ones_listed()
    {
        var a = new Arguments("summary", ["resnet18", "--img-sz", "10"]);
        a.Positional("ARCH");
        a.IntOrNull("--img-size");

        var e = Assert.Throws<SharpVisionException>(a.Finish);
        Assert.Contains("--img-sz", e.Message);
        Assert.Contains("--img-size", e.Message);
    }

    [Fact]
    public void Option_without_value_is_an_error()
    {
        var e = Assert.Throws<SharpVisionException>(() => new Arguments("train", ["data", "--epochs"]));
        Assert.Contains("--epochs needs a value", e.Message);
    }
}
