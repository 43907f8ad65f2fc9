using System.CommandLine;
using SharpVision.Dashboard;

namespace SharpVision.Cli.Commands;

/// <summary>
/// <c>sharpvision dashboard [RUNS_DIR]</c>: serves <see cref="DashboardServer"/> until Ctrl+C; and the <c>--dashboard</c>
/// flag of <c>train</c> and <c>detect train</c>, which serves it beside the run for as long as the run trains.
/// </summary>
public static class DashboardCommand
{
    private const string Description = """
        Serve a live training dashboard for RUNS_DIR (default runs/) in the browser, on this machine only.
        The page lists the runs (classification and detection; running, finished, stopped or crashed) and shows the open
        run's curves live (loss, accuracy, val_*, mAP, learning rate, images/s, memory; updated within 2 s of an epoch or
        a --log-every row), its settings (args.yaml), the confusion matrix and top losses `evaluate` wrote, detection
        samples with boxes, and other runs overlaid on its charts for comparison. It works offline (everything is served
        by this command) and is read-only: only files inside RUNS_DIR are served. Ctrl+C stops it.
        `train ... --dashboard` and `detect train ... --dashboard` start it beside a run.
        """;

    public static Command Create()
    {
        var command = new Command("dashboard", Description);
        var runsArg = Flags.Positional("RUNS_DIR", "the runs folder (default: runs)", optional: true);
        var host = Flags.Text("--host", "address to listen on; anything but loopback (127.0.0.1, ::1) lets other machines read the runs (a warning says so)", "127.0.0.1", "ADDRESS");
        var port = Flags.Int("--port", "TCP port (0: a free one)", 0, 0, 65535);
        command.Add(runsArg);
        command.Add(host);
        command.Add(port);
        command.SetAction(parse =>
        {
            string runs = parse.GetValue(runsArg) ?? "runs";
            using var server = Start(new DashboardOptions { RunsDir = runs, Host = parse.GetValue(host)!, Port = parse.GetValue(port) });
            Console.WriteLine("Press Ctrl+C to stop.");
            Console.Out.Flush();
            Interrupts.Token.WaitHandle.WaitOne();
            Console.WriteLine("Dashboard stopped.");
            return 0;
        });
        return command;
    }

    /// <summary>The <c>--dashboard</c> flag of the training commands.</summary>
    internal static Option<bool> Flag() =>
        Flags.Switch("--dashboard", "serve the live dashboard of this run's runs folder while it trains (prints the address; `sharpvision dashboard` serves it afterwards)");

    /// <summary>
    /// With <c>--dashboard</c>: the dashboard over the runs folder a training run at <paramref name="runDir"/> (null: the
    /// default runs/TASK/expN) belongs to, started and announced; null without the flag.
    /// </summary>
    internal static DashboardServer? StartBeside(ParseResult parse, Option<bool> flag, string? runDir)
    {
        if (!parse.GetValue(flag)) return null;
        string root = RunsRoot(runDir);
        Directory.CreateDirectory(root);
        return Start(new DashboardOptions { RunsDir = root });
    }

    /// <summary>
    /// The folder to serve for a run: runs/ by default; for --out DIR, DIR's parent, or its grandparent when the parent is a
    /// task folder (runs/train, runs/detect), so the run is seen beside the other tasks' runs and the evaluations.
    /// </summary>
    internal static string RunsRoot(string? runDir)
    {
        if (runDir is null) return "runs";
        string parent = Path.GetDirectoryName(Path.GetFullPath(runDir))!;
        return Path.GetFileName(parent) is "train" or "detect" && Path.GetDirectoryName(parent) is { } grandparent ? grandparent : parent;
    }

    /// <summary>Starts the server and prints its address, and any warning, the way the CLI names options.</summary>
    private static DashboardServer Start(DashboardOptions options)
    {
        var server = DashboardServer.Start(options);
        foreach (var warning in server.Warnings) Console.Error.WriteLine($"warning: {OptionFlags.Translate(warning)}");
        Console.WriteLine($"Dashboard: {server.Url} (runs in {server.RunsDir})");
        Console.Out.Flush();
        return server;
    }
}
