using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using SharpVision.Api;
using SharpVision.Data;
using SharpVision.Data.Detection;
using SharpVision.Tests.TestSupport;
using Xunit.Abstractions;

namespace SharpVision.Tests.Dashboard;

/// <summary>
/// Issue 13, acceptance 1 and 3: the dashboard in a real browser (Debian's Chromium driven by Playwright), beside a real
/// <c>sharpvision train ... --dashboard</c> typed as a user would: the runs list, the loss chart gaining a point when an
/// epoch ends without a reload, two runs overlaid, a finished run's confusion matrix, a detection run's boxes, and a
/// screenshot of the page during the run in the test output.
/// </summary>
[Collection("Global torch RNG")]
public sealed class DashboardBrowserTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestImages.TempDir("sv-dash-browser");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [ChromiumFact]
    public async Task A_training_run_is_watched_live_compared_and_its_finished_neighbours_opened()
    {
        // Given a runs folder holding a finished, evaluated classification run and a finished detection run
        string runs = Path.Combine(_dir, "runs");
        var digits = Digits.Export(Path.Combine(_dir, "digits"));
        var finished = Classifier.Train(digits.TrainDir, new ClassifierTrainOptions
        {
            Model = "minicnn", ImgSize = 16, Epochs = 2, Batch = 32, StepsPerEpoch = 8, Seed = 1, Workers = 0, Out = Path.Combine(runs, "train", "finished"),
        });
        using (var model = Classifier.Load(finished.RunDir))
            model.Evaluate(digits.TestDir).Save(Path.Combine(runs, "evaluate", "exp"), topLosses: 8,
                new Dictionary<string, string> { ["model"] = Path.GetFullPath(model.ModelPath), ["data"] = digits.TestDir });
        var shapes = ShapesDataset.Generate(Path.Combine(_dir, "shapes"), 10, seed: 2, size: 64, valFraction: .3);
        Detector.Train(shapes.TrainFile, new DetectorTrainOptions
        {
            Val = shapes.ValFile, Classes = shapes.ClassesFile, Model = "yolov3-tiny-quarter", ImgSize = 64, Epochs = 1, Batch = 4, Workers = 0,
            Out = Path.Combine(runs, "detect", "shapes"),
        });

        // When a user starts a training with --dashboard beside them
        // (15 steps of 32 images: epochs of a few seconds, long enough for the page to open before the second one ends)
        using var training = new CliChild("train", digits.TrainDir, "--model", "minicnn", "--img-size", "16", "--epochs", "3", "--batch", "32",
            "--steps-per-epoch", "15", "--seed", "2", "--workers", "1", "--out", Path.Combine(runs, "train", "live"), "--dashboard");
        string url = training.WaitFor(new Regex(@"^Dashboard: (http://127\.0\.0\.1:\d+/) ")).Groups[1].Value;

        // and opens the printed address in a headless browser
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(ChromiumFactAttribute.LaunchOptions());
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1440, Height = 1100 } });
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        await page.GotoAsync(url);

        // Then the runs list shows all three runs, by task, with their status; the running one is open
        var live = page.Locator("li[data-run-id='train/live']");
        await Assertions.Expect(live.Locator(".badge")).ToHaveTextAsync("running", new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("li[data-run-id='train/finished'] .badge")).ToHaveTextAsync("finished");
        await Assertions.Expect(page.Locator("li[data-run-id='detect/shapes'] .badge")).ToHaveTextAsync("finished");
        await Assertions.Expect(page.Locator("nav h3")).ToHaveTextAsync(["Classification", "Detection"]);
        await Assertions.Expect(page.Locator("#run-head h2")).ToContainTextAsync("train/live");

        // and its loss chart gains a point when the next epoch ends, with no reload (a marker set on the page survives)
        var loss = page.Locator("#chart-loss");
        await Assertions.Expect(loss).ToHaveAttributeAsync("data-points", new Regex("^[12]$"), new() { Timeout = 120_000 });
        int before = int.Parse((await loss.GetAttributeAsync("data-points"))!, System.Globalization.CultureInfo.InvariantCulture);
        await page.EvaluateAsync("window.__notReloaded = true");
        var clock = Stopwatch.StartNew();
        await Assertions.Expect(loss).ToHaveAttributeAsync("data-points", (before + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), new() { Timeout = 120_000 });
        Assert.True(await page.EvaluateAsync<bool>("window.__notReloaded === true"), "the page was reloaded");
        output.WriteLine($"loss chart went from {before} to {before + 1} point(s), {clock.Elapsed.TotalSeconds:0.0} s after the last check");
        // (every metric family of a classifier run is drawn, system metrics included)
        foreach (var chart in new[] { "accuracy", "lr", "speed", "memory" })
            await Assertions.Expect(page.Locator($"#chart-{chart}")).ToBeVisibleAsync();

        // When the finished run is ticked for comparison
        await page.Locator("li[data-run-id='train/finished'] input.compare").CheckAsync();

        // Then the loss chart draws both runs, and its legend names both
        await Assertions.Expect(loss).ToHaveAttributeAsync("data-runs", "train/live train/finished");
        await Assertions.Expect(loss.Locator(".u-legend")).ToContainTextAsync("train/finished · loss");
        await Assertions.Expect(loss.Locator(".u-legend")).ToContainTextAsync("train/live · val_loss");

        // and a screenshot of the page during the run goes to the test output
        string shot = ScreenshotPath("dashboard-during-run.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true });
        output.WriteLine($"screenshot: {shot} (run state then: {await live.Locator(".badge").TextContentAsync()})");

        // When the finished run is opened
        await page.Locator("li[data-run-id='train/finished'] button.open").ClickAsync();

        // Then its confusion matrix (written by evaluate) is shown and decodes, with the top losses
        var matrix = page.Locator("img.confusion-matrix");
        await Assertions.Expect(matrix).ToBeVisibleAsync();
        await page.WaitForFunctionAsync("() => { const i = document.querySelector('img.confusion-matrix'); return i && i.complete && i.naturalWidth > 100; }");
        await Assertions.Expect(page.Locator("img.top-losses")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#evaluations")).ToContainTextAsync("evaluate/exp");

        // When the detection run is opened, its mAP chart and the boxes drawn on validation images are there
        await page.Locator("li[data-run-id='detect/shapes'] button.open").ClickAsync();
        await Assertions.Expect(page.Locator("#chart-map")).ToBeVisibleAsync();
        await page.WaitForFunctionAsync("() => { const i = document.querySelector('img.val_predictions-png'); return i && i.complete && i.naturalWidth > 100; }");

        // And the live run ends normally, its page having raised no script error
        Assert.Equal(0, training.WaitForExit());
        Assert.Empty(errors);
        await Assertions.Expect(page.Locator("li[data-run-id='train/live'] .badge")).ToHaveTextAsync(new Regex("finished|running"));
    }

    /// <summary>Under the test project's TestResults/dashboard when run from the repository, else beside the test binaries.</summary>
    private static string ScreenshotPath(string name)
    {
        string? project = null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SharpVision.Tests.csproj"))) { project = dir.FullName; break; }
        string folder = Path.Combine(project ?? AppContext.BaseDirectory, "TestResults", "dashboard");
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, name);
    }
}

/// <summary>
/// A test that needs Debian's Chromium (<c>apt-get install chromium</c>, which .ci/run does): skipped with that reason
/// without it. Playwright's own browser download is not used (it cannot reach its servers here); its bundled driver
/// (node, inside the NuGet package) launches this browser by path.
/// </summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public const string Executable = "/usr/bin/chromium";

    public ChromiumFactAttribute()
    {
        if (!File.Exists(Executable)) Skip = $"{Executable} not found: the browser tests need Debian's chromium (apt-get install chromium; .ci/run installs it)";
    }

    /// <summary>
    /// Headless, with a fresh temporary profile (Playwright makes one per launch). Without the background-networking,
    /// component-update and sync switches Chromium keeps calling Google's servers, and on a closed network its
    /// connections are refused; the sandbox needs user namespaces that CI's root containers do not give.
    /// </summary>
    public static BrowserTypeLaunchOptions LaunchOptions() => new()
    {
        ExecutablePath = Executable,
        Headless = true,
        Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    };
}
