using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SharpVision.Data.Detection;
using SharpVision.Runs;
using SharpVision.Tests.Dashboard;
using SharpVision.Tests.TestSupport;

namespace SharpVision.Tests.Cli;

/// <summary>
/// <c>sharpvision dashboard</c> and <c>detect train --dashboard</c> as a user types them: the address printed, the page
/// served while the command runs, Ctrl+C ending it, a non-loopback --host warned about, and bad arguments refused
/// naming the option, what is allowed and what was received.
/// </summary>
[Collection("Console")]
public sealed class DashboardCommandTests : IDisposable
{
    private readonly RunsFixture _runs = new();

    public void Dispose() => _runs.Dispose();

    [Fact]
    public void Dashboard_serves_until_ctrl_c_and_warns_about_a_non_loopback_host()
    {
        // Given `sharpvision dashboard RUNS --host 0.0.0.0`
        using var child = new CliChild("dashboard", _runs.Runs, "--host", "0.0.0.0");

        // Then it warns, naming the flag, and prints the address (through loopback)
        var url = new Uri(child.WaitFor(new Regex(@"^Dashboard: (http://\S+) \(runs in (.+)\)$")).Groups[1].Value);
        Assert.Equal("127.0.0.1", url.Host);
        Assert.Contains(child.Lines, l => l.StartsWith("warning: --host 0.0.0.0 is not a loopback address: anyone who can reach this machine", StringComparison.Ordinal));
        // and the page and the runs are served
        var list = RawHttp.Send(url, "GET", "/api/runs");
        Assert.Equal(200, list.Status);
        Assert.Contains("\"id\":\"train/exp\"", list.Body);
        Assert.Contains("<title>SharpVision dashboard</title>", RawHttp.Send(url, "GET", "/").Body);

        // When Ctrl+C arrives, it stops cleanly with exit code 0
        CliProcess.Signal(child.Process, CliProcess.SigInt);
        Assert.Equal(0, child.WaitForExit());
        Assert.Contains("Dashboard stopped.", child.Lines);
    }

    [Theory]
    [InlineData("missing", new string[0], "error: RUNS_DIR must be an existing folder. Received: RUNS_DIR=")]
    [InlineData(null, new[] { "--host", "my-laptop" }, "error: --host must be an IP address of this machine (127.0.0.1, ::1, 0.0.0.0 for every interface) or localhost. Received: --host=my-laptop")]
    [InlineData(null, new[] { "--port", "70000" }, "error: --port must be an integer from 0 to 65535. Received: --port=70000")]
    public void Bad_arguments_name_the_option_and_print_no_trace(string? runsDir, string[] extra, string expected)
    {
        var r = Cli.Run(["dashboard", runsDir is null ? _runs.Runs : Path.Combine(_runs.Root, runsDir), .. extra]);

        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith(expected, r.Error);
        Assert.DoesNotContain("   at ", r.Error);
    }

    [Fact]
    public void Detect_train_with_dashboard_prints_the_address_and_serves_the_run_while_it_trains()
    {
        // Given a tiny shapes set and a detection run folder under runs/detect
        var shapes = ShapesDataset.Generate(Path.Combine(_runs.Root, "shapes"), 10, seed: 2, size: 64, valFraction: .3);
        string run = Path.Combine(_runs.Runs, "detect", "tiny");

        // When `detect train ... --dashboard` runs
        using var child = new CliChild("detect", "train", shapes.TrainFile, "--val", shapes.ValFile, "--classes", shapes.ClassesFile,
            "--model", "yolov3-tiny-quarter", "--img-size", "64", "--epochs", "2", "--batch", "4", "--workers", "0", "--out", run, "--dashboard");

        // Then the address is printed before training, for the runs folder above runs/detect, and answers at once
        var match = child.WaitFor(new Regex(@"^Dashboard: (http://127\.0\.0\.1:\d+/) \(runs in (.+)\)$"));
        Assert.Equal(_runs.Runs, match.Groups[2].Value);
        var list = JsonNode.Parse(RawHttp.Send(new Uri(match.Groups[1].Value), "GET", "/api/runs").Body)!;
        Assert.Contains(list["runs"]!.AsArray(), r => r!["id"]!.GetValue<string>() == "train/exp");

        // And the run ends normally, its folder saying finished, with the detection samples drawn for the page
        Assert.Equal(0, child.WaitForExit());
        Assert.Equal(RunState.Finished, RunStatus.Of(run).State);
        Assert.Equal(RunStatus.Detection, RunStatus.Of(run).Task);
        Assert.True(File.Exists(Path.Combine(run, "val_predictions.png")), string.Join('\n', child.Lines));
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, "system.csv")).Length);
    }
}
