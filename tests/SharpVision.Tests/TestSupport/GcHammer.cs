namespace SharpVision.Tests.TestSupport;

/// <summary>
/// Runs a body many times while another thread allocates and forces collections and finalizers without pause: the
/// conditions under which a temporary TorchSharp Scalar is freed while libtorch still reads it, unless TorchSharp
/// is the rewritten copy (see SharpVision.TorchSharpPatch).
/// </summary>
public static class GcHammer
{
    /// <summary>Runs <paramref name="body"/> up to <paramref name="iterations"/> times (at most <paramref name="maxSeconds"/>) and returns the failures' messages.</summary>
    public static (int Iterations, List<string> Failures) Run(Action body, int iterations, double maxSeconds = 10)
    {
        bool stop = false;
        var collector = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                // Garbage of its own too, so each collection has work and finalizers to run beside the Scalars'.
                for (int k = 0; k < 16; k++) GC.KeepAlive(new byte[4096]);
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }) { IsBackground = true };
        collector.Start();
        var failures = new List<string>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int i = 0;
        try
        {
            for (; i < iterations && clock.Elapsed.TotalSeconds < maxSeconds; i++)
            {
                try { body(); }
                catch (Exception e) when (e is System.Runtime.InteropServices.ExternalException or InvalidOperationException) { failures.Add(e.Message); }
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            collector.Join();
        }
        return (i, failures);
    }
}
