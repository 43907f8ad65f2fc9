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
        // Given a page connected to the event stream
        await using var server = DashboardServer.Start(new DashboardOptions { RunsDir = _runs.Runs });
        using var events = await EventStream.OpenAsync(server.Url);

        // When the trainer appends epoch 3 to results.csv
        var clock = Stopwatch.StartNew();
        File.AppendAllText(Path.Combine(_runs.ClassificationRun, "results.csv"), "3,0.3,0.9,0.4,0.85,0.001,2,0\n");

        // Then a "run" event for that run with three epochs arrives within 2 s, without asking for it
        var pushed = await events.NextRunAsync(run => run["metrics"]!["epoch"]!.AsArray().Count == 3);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"the new epoch took {clock.Elapsed.TotalSeconds:0.00} s to arrive");
        Assert.Equal(0.3, pushed["metrics"]!["loss"]!.AsArray()[2]!.GetValue<double>());
    }

    [Fact]
    public async Task A_log_every_row_appended_to_steps_csv_reaches_an_open_event_stream_within_two_seconds()
    {
        // Given a run logging every 10 steps (--log-every 10) and a page connected to the event stream
        string steps = Path.Combine(_runs.ClassificationRun, "steps.csv");
        File.WriteAllText(steps, "epoch,step,loss,accuracy,lr,images\n1,10,1.2,0.4,0.001,320\n");
        await using var server = DashboardServer.Start(new DashboardOptions { RunsDir = _runs.Runs });
        using var events = await EventStream.OpenAsync(server.Url);

        // When the trainer appends the row of step 20
        var clock = Stopwatch.StartNew();
        File.AppendAllText(steps, "1,20,0.9,0.55,0.001,640\n");

        // Then the run arrives with both step rows within 2 s
        var pushed = await events.NextRunAsync(run => run["steps_log"]?["step"]?.AsArray().Count == 2);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"the new step row took {clock.Elapsed.TotalSeconds:0.00} s to arrive");
        Assert.Equal(0.9, pushed["steps_log"]!["loss"]!.AsArray()[1]!.GetValue<double>());
    }

    /// <summary>The page's side of /api/events: reads "run" events until one for train/exp matches.</summary>
    private sealed class EventStream : IDisposable
    {
        private readonly HttpClient _http;
        private readonly HttpResponseMessage _response;
        private readonly StreamReader _reader;

        private EventStream(HttpClient http, HttpResponseMessage response, StreamReader reader) => (_http, _response, _reader) = (http, response, reader);

        /// <summary>Connects and reads the first event, the runs list.</summary>
        public static async Task<EventStream> OpenAsync(Uri server)
        {
            var http = new HttpClient { BaseAddress = server, Timeout = Timeout.InfiniteTimeSpan };
            var response = await http.GetAsync("/api/events", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
            var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.Equal("event: runs", await reader.ReadLineAsync());
            return new EventStream(http, response, reader);
        }

        public async Task<JsonNode> NextRunAsync(Func<JsonNode, bool> match)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            string? eventName = null;
            while (true)
            {
                string line = (await _reader.ReadLineAsync(timeout.Token))!;
                if (line.StartsWith("event: ", StringComparison.Ordinal)) eventName = line[7..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal) && eventName == "run"
                         && JsonNode.Parse(line[6..]) is { } run && run["id"]!.GetValue<string>() == "train/exp" && match(run))
                    return run;
            }
        }

        public void Dispose()
        {
            _reader.Dispose();
            _response.Dispose();
            _http.Dispose();
        }
    }
}
