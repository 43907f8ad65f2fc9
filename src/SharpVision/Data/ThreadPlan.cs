namespace SharpVision.Data;

/// <summary>
/// Chooses the loader's decode workers and libtorch's intra-op threads together, so that the two do not
/// fight over the cores.
/// </summary>
public static class ThreadPlan
{
    /// <summary>Most decode workers chosen by default; more rarely helps a CPU-bound trainer.</summary>
    public const int MaxDefaultWorkers = 8;

    /// <summary>
    /// The rule: decoding is cheap next to computing on the CPU (about 3 ms per 224 px image against about
    /// 49 ms of forward+backward, measured on 2 cores), so workers sleep on the bounded prefetch queue most
    /// of the time. Hence
    /// <list type="bullet">
    /// <item>default workers = 0 on one core (decode on the training thread), else <c>clamp(cores / 4, 1, 8)</c>;</item>
    /// <item>torch threads = <c>max(1, cores - workers / 2)</c>: each worker is counted as half a core, so two
    /// cores give 1 worker and 2 torch threads, 8 cores give 2 workers and 7 torch threads, 16 give 4 and 14.</item>
    /// </list>
    /// A requested worker count is used as given and the torch threads follow the same rule.
    /// </summary>
    /// <param name="cores">Logical cores available (e.g. <see cref="Environment.ProcessorCount"/>); below 1 counts as 1.</param>
    /// <param name="requestedWorkers">The user's <c>--workers</c>, or null for the default.</param>
    /// <exception cref="InvalidOptionException"><paramref name="requestedWorkers"/> is negative.</exception>
    public static (int Workers, int TorchThreads) Choose(int cores, int? requestedWorkers)
    {
        if (requestedWorkers < 0)
            throw new InvalidOptionException("ThreadPlan.Workers", "0 or more (0 decodes on the training thread)",
                requestedWorkers.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        cores = Math.Max(1, cores);
        int workers = requestedWorkers ?? (cores == 1 ? 0 : Math.Clamp(cores / 4, 1, MaxDefaultWorkers));
        return (workers, Math.Max(1, cores - workers / 2));
    }
}
