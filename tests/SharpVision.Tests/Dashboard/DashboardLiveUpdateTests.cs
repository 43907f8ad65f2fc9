using System.Diagnostics;
using System.Text.Json.Nodes;
using SharpVision.Dashboard;

namespace SharpVision.Tests.Dashboard;

/// <summary>
/// The promise the page makes, timed: a new epoch in results.csv is on an open event stream within 2 s. Timed tests
/// run alone, after the parallel ones, so other tests' load on the 2 cores does not decide them.
/// </summary>
[CollectionDefinition("Dashboard timing", DisableParallelization = true)]
public sealed class DashboardTimingCollection;

[Collection("Dashboard timing")]
public sealed class DashboardLiveUpdateTests : IDisposable
{
    private readonly RunsFixture _runs = new();

    public void Dispose() => _runs.Dispose();

    [Fact]
    public async Task An_epoch_appended_to_results_csv_reaches_an_open_event_stream_within_two_seconds()
    {
        // Given a page connected to the event stream, which has sent the runs list
        await using var server = DashboardServer.Start(new DashboardOptions { RunsDir = _runs.Runs });
        using var http = new HttpClient { BaseAddress = server.Url, Timeout = Timeout.InfiniteTimeSpan };
        using var response = await http.GetAsync("/api/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("event: runs", await reader.ReadLineAsync());

        // When the trainer appends epoch 3 to results.csv
        var clock = Stopwatch.StartNew();
        File.AppendAllText(Path.Combine(_runs.ClassificationRun, "results.csv"), "3,0.3,0.9,0.4,0.85,0.001,2,0\n");

        // Then a "run" event for that run with three epochs arrives within 2 s, without asking for it
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        JsonNode? pushed = null;
        string? eventName = null;
        while (pushed is null)
        {
            string line = (await reader.ReadLineAsync(timeout.Token))!;
            if (line.StartsWith("event: ", StringComparison.Ordinal)) eventName = line[7..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && eventName == "run"
                     && JsonNode.Parse(line[6..]) is { } run && run["id"]!.GetValue<string>() == "train/exp"
                     && run["metrics"]!["epoch"]!.AsArray().Count == 3)
                pushed = run;
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"the new epoch took {clock.Elapsed.TotalSeconds:0.00} s to arrive");
        Assert.Equal(0.3, pushed["metrics"]!["loss"]!.AsArray()[2]!.GetValue<double>());
    }
}
