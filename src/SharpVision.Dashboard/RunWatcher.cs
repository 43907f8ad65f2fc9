using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace SharpVision.Dashboard;

/// <summary>
/// Turns file changes in the runs folder into server-sent events. One loop re-reads the folder when a file event
/// arrives (after 100 ms, so an epoch's several files come as one update) and at least every
/// <see cref="DashboardOptions.PollInterval"/>; a run whose files changed is sent whole as a <c>run</c> event, and the
/// runs list as a <c>runs</c> event when any summary changed. The source is the folder alone, so a run trained in this
/// process (<c>train --dashboard</c>) and one trained elsewhere (<c>sharpvision dashboard DIR</c>) update the same way.
/// </summary>
internal sealed class RunWatcher : IDisposable
{
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(100);

    private readonly RunCatalog _catalog;
    private readonly TimeSpan _poll;
    private readonly List<Channel<SseItem<string>>> _clients = [];
    private readonly Dictionary<string, string> _stamps = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly FileSystemWatcher? _files;
    private readonly Task _loop;
    private string _list = "";

    public RunWatcher(RunCatalog catalog, TimeSpan poll)
    {
        _catalog = catalog;
        _poll = poll;
        Refresh();
        try
        {
            _files = new FileSystemWatcher(catalog.Root) { IncludeSubdirectories = true, NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size };
            _files.Changed += (_, _) => Wake();
            _files.Created += (_, _) => Wake();
            _files.Renamed += (_, _) => Wake();
            _files.Deleted += (_, _) => Wake();
            _files.EnableRaisingEvents = true;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            // Out of inotify watches, or a file system without events: polling alone still keeps the page live.
            _files?.Dispose();
            _files = null;
        }
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>The runs list as JSON (<c>{"root": ..., "runs": [...]}</c>), as last read.</summary>
    public string RunsJson
    {
        get { lock (_clients) return _list; }
    }

    /// <summary>One run's detail as JSON, read now; null when <paramref name="id"/> names no run.</summary>
    public string? RunJson(string id) =>
        _catalog.Find(id) is { } dir ? _catalog.Detail(dir, _catalog.Scan().Evaluations).ToJsonString() : null;

    /// <summary>The events of one page: the runs list first, then every change until the page or the server goes.</summary>
    public async IAsyncEnumerable<SseItem<string>> Subscribe([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Bounded: a page that stopped reading loses old updates rather than growing the server's memory.
        var channel = Channel.CreateBounded<SseItem<string>>(new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropOldest });
        lock (_clients)
        {
            _clients.Add(channel);
            channel.Writer.TryWrite(new SseItem<string>(_list, "runs"));
        }
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        try
        {
            while (true)
            {
                SseItem<string> item;
                try
                {
                    // A ping every 15 s lets a page notice a server that went away without closing the connection.
                    using var ping = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                    ping.CancelAfter(TimeSpan.FromSeconds(15));
                    item = await channel.Reader.ReadAsync(ping.Token);
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    item = new SseItem<string>("{}", "ping");
                }
                catch (OperationCanceledException)
                {
                    yield break;
                }
                yield return item;
            }
        }
        finally
        {
            lock (_clients) _clients.Remove(channel);
        }
    }

    private void Wake()
    {
        if (_wake.CurrentCount == 0) _wake.Release();
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                if (await _wake.WaitAsync(_poll, _stop.Token)) await Task.Delay(Debounce, _stop.Token);
                while (_wake.CurrentCount > 0) _wake.Wait(0);
                Refresh();
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A file replaced while read: the next round reads it again.
            }
        }
    }

    /// <summary>Re-reads the folder and sends what changed.</summary>
    private void Refresh()
    {
        var (runs, evaluations) = _catalog.Scan();
        var list = new JsonArray();
        var changed = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var dir in runs)
        {
            list.Add(_catalog.Summary(dir));
            seen.Add(dir);
            string stamp = _catalog.Stamp(dir, evaluations);
            if (_stamps.TryGetValue(dir, out var old) && old == stamp) continue;
            _stamps[dir] = stamp;
            changed.Add(dir);
        }
        foreach (var gone in _stamps.Keys.Where(k => !seen.Contains(k)).ToList()) _stamps.Remove(gone);
        string listJson = new JsonObject { ["root"] = _catalog.Root, ["runs"] = list }.ToJsonString();
        lock (_clients)
        {
            foreach (var dir in changed)
            {
                var item = new SseItem<string>(_catalog.Detail(dir, evaluations).ToJsonString(), "run");
                foreach (var client in _clients) client.Writer.TryWrite(item);
            }
            if (listJson != _list)
            {
                _list = listJson;
                foreach (var client in _clients) client.Writer.TryWrite(new SseItem<string>(listJson, "runs"));
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _files?.Dispose();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        lock (_clients)
            foreach (var client in _clients) client.Writer.TryComplete();
    }
}
