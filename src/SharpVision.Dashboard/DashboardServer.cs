using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace SharpVision.Dashboard;

/// <summary>
/// The live training dashboard: a local web page over a runs folder, served by Kestrel from this process. It lists the
/// runs (classification and detection, running, finished, stopped or crashed), draws every logged metric live (pushed by
/// server-sent events within about a second of an epoch or a <c>steps.csv</c> row being written), overlays runs for
/// comparison, and shows a run's settings, evaluations (confusion matrix, top losses) and images. Read-only: GET only,
/// files only from inside the runs folder (<see cref="SafePath"/>), no directory listings.
/// <code>
/// using var dashboard = DashboardServer.Start(new DashboardOptions { RunsDir = "runs" });
/// Console.WriteLine(dashboard.Url);                          // http://127.0.0.1:41234/
/// var run = Classifier.Train("data/train", new ClassifierTrainOptions { Out = "runs/train/exp" });
/// </code>
/// </summary>
public sealed class DashboardServer : IDisposable, IAsyncDisposable
{
    // Files a run folder holds that the page shows or links; weights and anything else are not served.
    private static readonly Dictionary<string, string> ServedTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".png"] = "image/png", [".jpg"] = "image/jpeg", [".jpeg"] = "image/jpeg", [".csv"] = "text/csv; charset=utf-8",
        [".txt"] = "text/plain; charset=utf-8", [".yaml"] = "text/plain; charset=utf-8", [".json"] = "application/json",
    };

    private readonly WebApplication _app;
    private readonly RunWatcher _watcher;

    private DashboardServer(WebApplication app, RunWatcher watcher, Uri url, string runsDir, IReadOnlyList<string> warnings)
    {
        _app = app;
        _watcher = watcher;
        Url = url;
        RunsDir = runsDir;
        Warnings = warnings;
    }

    /// <summary>The page's address, with the port actually bound (http://127.0.0.1:PORT/).</summary>
    public Uri Url { get; }

    /// <summary>The runs folder served, absolute.</summary>
    public string RunsDir { get; }

    /// <summary>What the user should know before sharing the address (a non-loopback <see cref="DashboardOptions.Host"/>).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Starts serving <see cref="DashboardOptions.RunsDir"/>; returns once the port is bound.</summary>
    /// <exception cref="InvalidOptionException">A missing runs folder, an unknown host or a port out of range.</exception>
    /// <exception cref="SharpVisionException">The address cannot be bound (port in use, not an address of this machine).</exception>
    public static DashboardServer Start(DashboardOptions? options = null)
    {
        options ??= new DashboardOptions();
        var address = options.Validate();
        bool loopback = IPAddress.IsLoopback(address);
        var warnings = new List<string>();
        if (!loopback)
            warnings.Add($"{DashboardOptions.Name(nameof(DashboardOptions.Host))} {options.Host} is not a loopback address: anyone who can reach " +
                         "this machine on the dashboard's port can read every run in the runs folder (the page has no login).");

        var catalog = new RunCatalog(options.RunsDir);
        // The empty builder: no configuration files, environment variables or logging providers to pick up, so a
        // dashboard inside a training process neither changes nor prints anything of its own.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ContentRootPath = catalog.Root });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.Listen(address, options.Port);
            k.AddServerHeader = false;
        });
        builder.Services.AddRoutingCore();
        // Open event streams end when the server stops; nothing else is worth waiting for.
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(2));
        var app = builder.Build();
        var watcher = new RunWatcher(catalog, options.PollInterval);
        try
        {
            app.Use(Guard(loopback));
            Map(app, catalog, watcher);
            app.StartAsync().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            watcher.Dispose();
            ((IDisposable)app).Dispose();
            throw new SharpVisionException($"{DashboardOptions.Name(nameof(DashboardOptions.Host))} {options.Host} and " +
                $"{DashboardOptions.Name(nameof(DashboardOptions.Port))} {options.Port} cannot be listened on: {e.Message}", e);
        }
        var bound = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features
            .Get<IServerAddressesFeature>()!.Addresses.First();
        // Kestrel reports 0.0.0.0 or [::] for "every interface": the page is opened on this machine through loopback.
        var url = new UriBuilder(bound.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("[::]", "[::1]", StringComparison.Ordinal)) { Path = "/" }.Uri;
        return new DashboardServer(app, watcher, url, catalog.Root, warnings);
    }

    /// <summary>
    /// Before any endpoint: only GET and HEAD exist, and on a loopback address only a loopback Host header is served,
    /// so a web page elsewhere cannot read the runs through a DNS name rebound to 127.0.0.1. Every answer forbids
    /// content sniffing and loading anything from another origin.
    /// </summary>
    private static Func<HttpContext, RequestDelegate, Task> Guard(bool loopback) => (context, next) =>
    {
        var response = context.Response;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";
        response.Headers.CacheControl = "no-store";
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            response.Headers.Allow = "GET, HEAD";
            return Task.CompletedTask;
        }
        if (loopback && !IsLoopbackHost(context.Request.Host.Host))
        {
            response.StatusCode = StatusCodes.Status400BadRequest;
            return response.WriteAsync("Host not served: open the dashboard at the address it printed.");
        }
        return next(context);
    };

    private static bool IsLoopbackHost(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip);

    private static void Map(WebApplication app, RunCatalog catalog, RunWatcher watcher)
    {
        var assets = Assets.Load();
        app.MapGet("/", () => assets.Result("index.html"));
        app.MapGet("/static/{**name}", (string name) => assets.Result(name));
        app.MapGet("/api/runs", () => Results.Text(watcher.RunsJson, "application/json"));
        app.MapGet("/api/run", (string? id) =>
            id is not null && watcher.RunJson(id) is { } json ? Results.Text(json, "application/json") : Results.NotFound());
        // Streams end when the page goes (aborted) or the watcher stops (on Dispose, before the server waits for them).
        app.MapGet("/api/events", (CancellationToken aborted) => TypedResults.ServerSentEvents(watcher.Subscribe(aborted)));
        app.MapGet("/files/{**path}", (string? path) =>
        {
            // One gate: inside the root, no links, a file (never a folder listing), of a kind the page shows.
            if (SafePath.Resolve(catalog.Root, path) is not { } full || !File.Exists(full)
                || !ServedTypes.TryGetValue(Path.GetExtension(full), out var type))
                return Results.NotFound();
            return Results.File(full, type);
        });
    }

    /// <summary>Stops listening and ends every open page's event stream.</summary>
    public async ValueTask DisposeAsync()
    {
        _watcher.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <inheritdoc cref="DisposeAsync"/>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>The page, its script and style and the vendored chart library, embedded in this assembly.</summary>
    private sealed class Assets(Dictionary<string, byte[]> files)
    {
        private const string Prefix = "SharpVision.Dashboard.";

        public static Assets Load()
        {
            var assembly = typeof(DashboardServer).Assembly;
            var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
            {
                using var stream = assembly.GetManifestResourceStream(name)!;
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                files[name[Prefix.Length..].Replace('\\', '/')] = copy.ToArray();
            }
            return new Assets(files);
        }

        public IResult Result(string name)
        {
            if (!files.TryGetValue(name, out var bytes)) return Results.NotFound();
            string type = Path.GetExtension(name) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                _ => "text/plain; charset=utf-8",
            };
            return Results.Bytes(bytes, type);
        }
    }
}
