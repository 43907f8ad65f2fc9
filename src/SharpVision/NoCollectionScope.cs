using System.Runtime;

namespace SharpVision;

/// <summary>
/// A training or inference step during which the garbage collector does not run (a .NET no-GC region).
/// <para>
/// Why: TorchSharp 0.107 creates a temporary <c>Scalar</c> for every tensor-with-number operation and for the
/// implicit <c>alpha</c> of every <c>a + b</c> and <c>a - b</c>, inside its modules and optimizers too, and keeps
/// none of them alive during the native call. A collection at that moment lets the finalizer thread free the
/// native scalar while libtorch reads it: the step fails with c10's "Expected false to be true" (a hammer test
/// here: Adam failed 35 times in 77,000 steps, SGD 19 in 100,000). Our own code avoids temporaries
/// (<see cref="Scalars"/>), but TorchSharp's cannot be reached; with no collection inside the step, the Scalars it
/// drops become garbage only after the step, when nothing reads them. Entering costs one blocking collection
/// (about 1-2 ms with half a million live objects), so it wraps whole steps, not single operations.
/// </para>
/// <para>
/// The region is process-wide: when another thread already holds one, or allocations on other threads (image
/// loaders) exceed <see cref="BudgetBytes"/>, the step runs unprotected, exactly as without this scope. What still
/// slips through is caught by <see cref="Training.ScalarRace"/>, which runs the failed step again.
/// </para>
/// </summary>
public readonly struct NoCollectionScope : IDisposable
{
    /// <summary>Bytes all threads may allocate during one step before a collection happens anyway.</summary>
    public const long BudgetBytes = 64L << 20;

    private readonly bool _entered;

    private NoCollectionScope(bool entered) => _entered = entered;

    /// <summary>Starts a no-GC region when none is active.</summary>
    public static NoCollectionScope Enter()
    {
        if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) return default;
        try
        {
            return new NoCollectionScope(GC.TryStartNoGCRegion(BudgetBytes));
        }
        catch (InvalidOperationException)
        {
            return default; // another thread started one in between
        }
    }

    /// <summary>Ends the region this scope started, if it is still active.</summary>
    public void Dispose()
    {
        if (!_entered || GCSettings.LatencyMode != GCLatencyMode.NoGCRegion) return;
        try
        {
            GC.EndNoGCRegion();
        }
        catch (InvalidOperationException)
        {
            // The budget ran out (a collection happened and ended the region): nothing to end.
        }
    }
}
