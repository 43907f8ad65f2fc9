using System.CommandLine;

namespace SharpVision.Tests.Cli;

/// <summary>
/// The command line as users type it: every command's --help, and the one-line errors for values, unknown options,
/// missing values and arguments (System.CommandLine parses; the messages keep the Keras form).
/// </summary>
[Collection("Console")]
public class ParsingTests
{
    /// <summary>Every command and subcommand, as typed after <c>sharpvision</c>.</summary>
    public static TheoryData<string> Commands()
    {
        var data = new TheoryData<string>();
        foreach (var path in Paths(SharpVision.Cli.Program.CreateRoot(), ""))
            data.Add(path);
        return data;
    }

    private static IEnumerable<string> Paths(Command command, string prefix) =>
        command.Subcommands.SelectMany(c => Paths(c, prefix + c.Name + " ").Prepend(prefix + c.Name));

    [Theory]
    [MemberData(nameof(Commands))]
    public void Help_of_every_command_exits_0_and_lists_its_options_with_defaults(string path)
    {
        var command = Find(path);

        var r = Cli.Run([.. path.Split(' '), "--help"]);

        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Equal("", r.Error);
        foreach (var option in command.Options.Where(o => !o.Hidden))
        {
            Assert.Contains(option.Name, r.Out);
            if (command.Subcommands.Count == 0 && option.HasDefaultValue && option.ValueType != typeof(bool))
                Assert.Contains($"[default: {Convert.ToString(option.GetDefaultValue(), System.Globalization.CultureInfo.InvariantCulture)}]", r.Out);
        }
        foreach (var sub in command.Subcommands)
            Assert.Contains(sub.Name, r.Out);
    }

    [Fact]
    public void Short_help_and_root_help_work_and_no_arguments_is_a_usage_error()
    {
        var shortHelp = Cli.Run("predict", "-h");
        var rootHelp = Cli.Run("--help");
        var nothing = Cli.Run();

        Assert.Equal(0, shortHelp.ExitCode);
        Assert.Contains("--top-k <N>", shortHelp.Out);
        Assert.Contains("[default: 1]", shortHelp.Out);
        Assert.Equal(0, rootHelp.ExitCode);
        Assert.Contains("lr-find", rootHelp.Out);
        Assert.Equal(2, nothing.ExitCode);
        Assert.Contains("Commands:", nothing.Out);
    }

    [Fact]
    public void Help_wins_over_missing_arguments_and_bad_values()
    {
        var r = Cli.Run("evaluate", "--batch", "0", "--help");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("--top-losses <N>", r.Out);
    }

    [Theory]
    [InlineData(new[] { "train", "data", "--batch", "0" }, "error: --batch must be an integer >= 1. Received: --batch=0")]
    [InlineData(new[] { "train", "data", "--lr", "fast" }, "error: --lr must be a number from 1E-12 to 10. Received: --lr=fast")]
    [InlineData(new[] { "train", "data", "--layout=folder" }, "error: --layout must be one of auto, folders, filenames, csv. Received: --layout=folder")]
    [InlineData(new[] { "train", "data", "--fine-tune", "3" }, "error: --fine-tune must be two epoch counts E1,E2 (each >= 1), e.g. 3,3. Received: --fine-tune=3")]
    [InlineData(new[] { "detect", "predict", "m", "x.jpg", "--conf", "2" }, "error: --conf must be a number from 0 to 1. Received: --conf=2")]
    [InlineData(new[] { "anchors", "data", "--clusters", "0" }, "error: --clusters must be an integer from 1 to 100. Received: --clusters=0")]
    [InlineData(new[] { "datasets", "make-shapes", "--out", "x", "--val-fraction", "1" }, "error: --val-fraction must be a number from 0 to 0.95. Received: --val-fraction=1")]
    [InlineData(new[] { "doctor", "--max-side", "x" }, "error: --max-side must be an integer from 4 to 1024. Received: --max-side=x")]
    [InlineData(new[] { "train", "data", "--val", "/no/such/dir" }, "error: --val must be an existing file or folder. Received: --val=/no/such/dir (not found)")]
    [InlineData(new[] { "predict", "model", "x.jpg", "--engine", "bogus" }, "error: --engine must be one of auto, torch, onnxruntime. Received: --engine=bogus")]
    [InlineData(new[] { "train", "data", "--model", "minicnn", "--width", "0" }, "error: --width must be an integer from 1 to 4096. Received: --width=0")]
    [InlineData(new[] { "train", "data", "--precision", "xyz" }, "error: --precision must be one of fp32, bf16. Received: --precision=xyz")]
    [InlineData(new[] { "detect", "train", "data", "--precision=fp16" }, "error: --precision must be one of fp32, bf16. Received: --precision=fp16")]
    public void Bad_value_names_the_flag_what_is_allowed_and_what_was_received(string[] args, string expected)
    {
        var r = Cli.Run(args);

        Assert.Equal(1, r.ExitCode);
        Assert.Equal(expected, r.Error.Trim());
    }

    [Theory]
    [InlineData(new[] { "summary", "resnet18", "--img-sz", "10" }, 1, "'summary' has no option --img-sz. Its options: --freeze, --help, --img-size, --num-classes, --verbose.")]
    [InlineData(new[] { "train", "data", "--epochs" }, 1, "--epochs needs a value. Received: --epochs with nothing after it")]
    [InlineData(new[] { "train", "data", "extra" }, 1, "'train' did not expect 'extra'. Run 'sharpvision train --help' for usage.")]
    [InlineData(new[] { "evaluate", "model" }, 1, "'evaluate' needs DATA. Run 'sharpvision evaluate --help' for usage.")]
    [InlineData(new[] { "predict", "model" }, 1, "'predict' needs at least one PATH (images, folders or a video) or --source. Run 'sharpvision predict --help' for usage.")]
    [InlineData(new[] { "map", "--dt", "x.txt" }, 1, "'map' needs --gt GT. Run 'sharpvision map --help' for usage.")]
    [InlineData(new[] { "detect" }, 1, "'detect' needs one of check, train, predict, evaluate. Run 'sharpvision detect --help' for usage.")]
    [InlineData(new[] { "detect", "fit" }, 1, "detect ACTION must be one of check, train, predict, evaluate. Received: detect ACTION=fit")]
    [InlineData(new[] { "train", "--resume", "run", "--epochs", "3" }, 1, "'train --resume' takes only --device, --workers and --dashboard: the other settings come from the run's args.yaml. Received: --epochs")]
    [InlineData(new[] { "frobnicate", "--out", "x" }, 2, "command must be one of train, evaluate, predict,")]
    public void Unknown_or_missing_parts_give_one_line_naming_them(string[] args, int exitCode, string expected)
    {
        var r = Cli.Run(args);

        Assert.Equal(exitCode, r.ExitCode);
        Assert.Contains("error: " + expected, r.Error);
        Assert.Single(r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Options_read_in_both_forms_and_verbose_anywhere()
    {
        // Given a bad --freeze after a value given as --img-size=32 and --verbose before the command
        var r = Cli.Run("--verbose", "summary", "resnet18", "--img-size=32", "--freeze", "first");

        // Then the value error comes from the library (the options parsed), with the trace --verbose asks for
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("Received: --freeze=first", r.Error);
        Assert.Contains("   at ", r.Error);
    }

    [Fact]
    public void Suggest_directive_completes_option_names_and_choices()
    {
        // dotnet-suggest passes the command line as one string and the cursor position
        var options = Cli.Run("[suggest:12]", "train --fine");
        var choices = Cli.Run("[suggest:16]", "train --layout f");

        Assert.Equal(0, options.ExitCode);
        Assert.Equal(["--fine-tune"], options.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["filenames", "folders"], choices.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private static Command Find(string path)
    {
        Command command = SharpVision.Cli.Program.CreateRoot();
        foreach (var name in path.Split(' '))
            command = command.Subcommands.Single(c => c.Name == name);
        return command;
    }
}
