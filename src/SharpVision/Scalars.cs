using System.Collections.Concurrent;
using TorchSharp;

namespace SharpVision;

/// <summary>
/// Long-lived TorchSharp <see cref="Scalar"/>s for the tensor-with-number operations of per-step code.
/// <para>
/// Why: in TorchSharp 0.107 an implicit conversion (<c>x / 2f</c>, <c>x.clamp_min(1e-9)</c>) creates a Scalar that
/// nothing keeps alive during the native call; when a collection runs at that moment (loader threads allocate
/// large image buffers, so collections are frequent during training) its finalizer frees the native scalar while
/// libtorch is reading it, and the step fails with c10's "Expected false to be true" from <c>Scalar::toDouble</c>
/// (seen in a detection run under load). A cached Scalar is never finalised. The cache holds one entry per distinct
/// value; per-step code uses a handful (constants, batch sizes).
/// </para>
/// </summary>
public static class Scalars
{
    private const int Capacity = 4096;
    private static readonly ConcurrentDictionary<double, Scalar> Cache = new();

    /// <summary>The Scalar of <paramref name="value"/> (float64), alive for the whole process.</summary>
    public static Scalar Of(double value)
    {
        if (Cache.TryGetValue(value, out var s)) return s;
        // Past the capacity (a caller passing ever-new values) fall back to a fresh Scalar rather than grow without bound.
        return Cache.Count >= Capacity ? value.ToScalar() : Cache.GetOrAdd(value, v => v.ToScalar());
    }
}
