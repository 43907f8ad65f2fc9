using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Dashboard;

namespace SharpVision.Tests.Dashboard;

/// <summary>
/// The dashboard's server over plain HTTP: what it lists and serves from a runs folder, how fast an appended epoch
/// reaches an open event stream, and its safety rules (nothing outside the runs folder, no listings, no writes,
/// loopback only unless asked, with a warning).
/// </summary>
public sealed class DashboardServerTests : IDisposable
{
    private readonly RunsFixture _runs = new();

    public void Dispose() => _runs.Dispose();

    private DashboardServer Start(string? host = null) =>
        DashboardServer.Start(new DashboardOptions { RunsDir = _runs.Runs, Host = host ?? "127.0.0.1", PollInterval = TimeSpan.FromMilliseconds(500) });

    private static async Task<JsonNode> Json(HttpClient http, string path) => JsonNode.Parse(await http.GetStringAsync(path))!;

    [Fact]
    public async Task Lists_both_tasks_and_gives_a_run_with_metrics_settings_and_its_evaluation()
    {
        // Given a runs folder with a classification run (evaluated) and a detection run
        await using var server = Start();
        using var http = new HttpClient { BaseAddress = server.Url };

        // When the page asks for the runs list
        var list = await Json(http, "/api/runs");

        // Then both runs are there with their task and state, the evaluation folder is not a run
        var runs = list["runs"]!.AsArray().ToDictionary(r => r!["id"]!.GetValue<string>());
        Assert.Equal(["detect/exp", "train/exp"], runs.Keys.Order());
        Assert.Equal("classification", runs["train/exp"]!["task"]!.GetValue<string>());
        Assert.Equal("finished", runs["train/exp"]!["state"]!.GetValue<string>());
        Assert.Equal("detection", runs["detect/exp"]!["task"]!.GetValue<string>());
        Assert.Equal(4, runs["detect/exp"]!["epochs"]!.GetValue<int>());
        Assert.Equal("val_accuracy", runs["train/exp"]!["best"]!["metric"]!.GetValue<string>());
        Assert.Equal(0.75, runs["train/exp"]!["best"]!["value"]!.GetValue<double>());

        // When it opens the classification run
        var run = await Json(http, "/api/run?id=train/exp");

        // Then every metric column comes per epoch, with system.csv's speed and memory merged in
        var metrics = run["metrics"]!;
        Assert.Equal([1.0, 2.0], metrics["epoch"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.Equal([0.9, 0.5], metrics["loss"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.Equal([250.0, 260.0], metrics["images_per_second"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.Equal([300.0, 310.0], metrics["memory_mb"]!.AsArray().Select(v => v!.GetValue<double>()));
        // the settings as args.yaml has them
        Assert.Contains(run["args"]!.AsArray(), pair => pair![0]!.GetValue<string>() == "model" && pair[1]!.GetValue<string>() == "minicnn");
        // and the evaluation whose metrics.json names this run's model, with a confusion matrix that downloads as a PNG
        var evaluation = Assert.Single(run["evaluations"]!.AsArray())!;
        Assert.Equal("evaluate/exp", evaluation["id"]!.GetValue<string>());
        Assert.Equal(0.9, evaluation["accuracy"]!.GetValue<double>());
        using var png = await http.GetAsync(evaluation["confusion_matrix"]!.GetValue<string>());
        Assert.Equal(System.Net.HttpStatusCode.OK, png.StatusCode);
        Assert.Equal("image/png", png.Content.Headers.ContentType!.MediaType);
        Assert.Equal(RunsFixture.Png, await png.Content.ReadAsByteArrayAsync());
        // The detection run has no evaluation; an unknown id is 404
        Assert.Empty((await Json(http, "/api/run?id=detect/exp"))["evaluations"]!.AsArray());
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync("/api/run?id=train/nope")).StatusCode);
    }

    [Theory]
    [InlineData("/files/../secret.txt")]
    [InlineData("/files/train/../../secret.txt")]
    [InlineData("/files/%2e%2e/secret.txt")]
    [InlineData("/files/..%2fsecret.txt")]
    [InlineData("/files/train/exp/..%2f..%2f..%2fsecret.txt")]
    [InlineData("/files/%2e%2e%2f%2e%2e%2fsecret.txt")]
    [InlineData("/files/..%5csecret.txt")]
    [InlineData("/files//etc/passwd")]
    [InlineData("/files/%2fetc%2fpasswd")]
    [InlineData("/files/%2Fetc%2Fpasswd")]
    [InlineData("/files/train/exp/link-out/secret.txt")]
    [InlineData("/files/train/exp/linked-secret.txt")]
    [InlineData("/files/train")]
    [InlineData("/files/train/exp/")]
    [InlineData("/files/train/exp/weights/best.svmodel")]
    [InlineData("/files/")]
    [InlineData("/static/../../secret.txt")]
    [InlineData("/api/run?id=../secret.txt")]
    [InlineData("/api/run?id=%2f")]
    public void Requests_for_anything_outside_the_runs_folder_or_not_a_shown_file_are_404(string target)
    {
        // Given links inside the runs folder that lead outside it
        Directory.CreateSymbolicLink(Path.Combine(_runs.ClassificationRun, "link-out"), _runs.Root);
        File.CreateSymbolicLink(Path.Combine(_runs.ClassificationRun, "linked-secret.txt"), _runs.Secret);
        using var server = Start();

        // When the request target is sent exactly as written
        var response = RawHttp.Send(server.Url, "GET", target);

        // Then it is not found, and the secret is not in the answer
        Assert.True(response.Status == 404, $"{target}: {response.Status}\n{response.Body}");
        Assert.DoesNotContain("secret", response.Body);
    }

    [Fact]
    public void A_file_inside_the_runs_folder_is_served()
    {
        using var server = Start();
        var response = RawHttp.Send(server.Url, "GET", "/files/train/exp/results.csv");
        Assert.Equal(200, response.Status);
        Assert.StartsWith("epoch,loss,accuracy", response.Body);
        Assert.Contains("X-Content-Type-Options: nosniff", response.Headers);
    }

    [Theory]
    [InlineData("POST", "/api/runs")]
    [InlineData("PUT", "/files/train/exp/results.csv")]
    [InlineData("DELETE", "/files/train/exp/results.csv")]
    [InlineData("PATCH", "/api/run?id=train/exp")]
    [InlineData("POST", "/files/train/exp/new.txt")]
    public void There_are_no_write_endpoints(string method, string target)
    {
        using var server = Start();
        string before = File.ReadAllText(Path.Combine(_runs.ClassificationRun, "results.csv"));

        var response = RawHttp.Send(server.Url, method, target);

        Assert.Equal(405, response.Status);
        Assert.Equal(before, File.ReadAllText(Path.Combine(_runs.ClassificationRun, "results.csv")));
        Assert.False(File.Exists(Path.Combine(_runs.ClassificationRun, "new.txt")));
    }

    [Fact]
    public void By_default_it_listens_on_loopback_only_and_answers_only_loopback_host_names()
    {
        // Given a dashboard with the default options
        using var server = Start();

        // Then its address is 127.0.0.1, the kernel's listening socket is bound to 127.0.0.1 (not every interface)
        Assert.Equal("127.0.0.1", server.Url.Host);
        Assert.Empty(server.Warnings);
        Assert.Equal(["127.0.0.1"], ListeningAddresses(server.Url.Port));
        // and a request naming another host (a DNS name rebound to 127.0.0.1 by some web page) is refused
        Assert.Equal(400, RawHttp.Send(server.Url, "GET", "/api/runs", host: "attacker.example").Status);
        Assert.Equal(200, RawHttp.Send(server.Url, "GET", "/api/runs", host: $"localhost:{server.Url.Port}").Status);
    }

    [Fact]
    public void Another_host_address_is_allowed_with_a_warning()
    {
        // Given a dashboard asked to listen on every interface
        using var server = Start(host: "0.0.0.0");

        // Then it warns that anyone who reaches the port can read the runs, and listens on 0.0.0.0
        var warning = Assert.Single(server.Warnings);
        Assert.Contains("DashboardOptions.Host 0.0.0.0 is not a loopback address", warning);
        Assert.Equal(["0.0.0.0"], ListeningAddresses(server.Url.Port));
        // and (tried through loopback only) answers requests whatever host name they give
        Assert.Equal(200, RawHttp.Send(server.Url, "GET", "/api/runs", host: "dashboard.lan").Status);
    }

    [Theory]
    [InlineData("missing", "127.0.0.1", 0, "DashboardOptions.RunsDir must be an existing folder. Received: DashboardOptions.RunsDir=")]
    [InlineData(null, "not-an-address", 0, "DashboardOptions.Host must be an IP address of this machine (127.0.0.1, ::1, 0.0.0.0 for every interface) or localhost. Received: DashboardOptions.Host=not-an-address")]
    [InlineData(null, "127.0.0.1", 70000, "DashboardOptions.Port must be an integer from 0 (a free port) to 65535. Received: DashboardOptions.Port=70000")]
    public void Bad_options_are_refused_naming_the_option(string? runsDir, string host, int port, string expected)
    {
        var error = Assert.Throws<InvalidOptionException>(() =>
            DashboardServer.Start(new DashboardOptions { RunsDir = runsDir is null ? _runs.Runs : Path.Combine(_runs.Root, runsDir), Host = host, Port = port }));
        Assert.StartsWith(expected, error.Message);
    }

    /// <summary>The local addresses the kernel has a listening TCP socket on for <paramref name="port"/> (IPv4, /proc/net/tcp).</summary>
    private static List<string> ListeningAddresses(int port)
    {
        var found = new List<string>();
        foreach (var line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var local = fields[1].Split(':');
            if (fields[3] != "0A" || int.Parse(local[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture) != port) continue;
            var bytes = BitConverter.GetBytes(uint.Parse(local[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            found.Add(new System.Net.IPAddress(bytes).ToString());
        }
        return found;
    }
}
