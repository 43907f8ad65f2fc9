using System.Globalization;
using System.Net;

namespace SharpVision.Dashboard;

/// <summary>Where the dashboard reads runs from and where it listens.</summary>
public sealed record DashboardOptions
{
    /// <summary>The runs folder (runs/ by default): every run, evaluation and image under it can be shown, nothing outside it.</summary>
    public string RunsDir { get; init; } = "runs";

    /// <summary>
    /// The address to listen on: 127.0.0.1 (the default: this machine only), localhost, ::1, or another address of this
    /// machine such as 0.0.0.0 (every interface). A non-loopback address is allowed with a warning
    /// (<see cref="DashboardServer.Warnings"/>): the page has no login, so anyone who reaches the port reads the runs.
    /// </summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The TCP port; 0 (the default) takes a free one (<see cref="DashboardServer.Url"/> says which).</summary>
    public int Port { get; init; }

    /// <summary>
    /// How often the runs folder is re-read when no file event arrived (file events can be missed: network file
    /// systems, inotify limits). A second keeps a page within the 2 s it promises after an epoch ends.
    /// </summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    internal static string Name(string property) => $"{nameof(DashboardOptions)}.{property}";

    /// <summary>The address to bind; throws <see cref="InvalidOptionException"/> naming the property at fault.</summary>
    internal IPAddress Validate()
    {
        if (!Directory.Exists(RunsDir))
            throw new InvalidOptionException(Name(nameof(RunsDir)), "an existing folder",
                File.Exists(RunsDir) ? $"{RunsDir} (a file)" : $"{RunsDir} (not found)");
        if (Port is < 0 or > 65535)
            throw new InvalidOptionException(Name(nameof(Port)), "an integer from 0 (a free port) to 65535", Port.ToString(CultureInfo.InvariantCulture));
        if (PollInterval <= TimeSpan.Zero)
            throw new InvalidOptionException(Name(nameof(PollInterval)), "a positive time", PollInterval.ToString());
        if (Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return IPAddress.Loopback;
        return IPAddress.TryParse(Host.Trim('[', ']'), out var address) ? address
            : throw new InvalidOptionException(Name(nameof(Host)), "an IP address of this machine (127.0.0.1, ::1, 0.0.0.0 for every interface) or localhost", Host);
    }
}
