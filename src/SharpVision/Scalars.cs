using System.Collections.Concurrent;
using TorchSharp;

namespace SharpVision;

/// <summary>
/// Long-lived TorchSharp <see cref="Scalar"/>s for the tensor-with-number operations of per-step code.
/// <para>
/// Why: an implicit conversion (<c>x / 2f</c>, <c>x.clamp_min(1e-9)</c>) allocates a Scalar, a native c10::Scalar
/// behind it and a finalizer to free that, on every call; loss and decode code runs such operations many times
/// per step, and a cached Scalar costs nothing after its first use. It is no longer needed for safety: the build
/// rewrites TorchSharp so a temporary Scalar outlives the native call that reads it (see
/// <see cref="TorchSharpPatch"/>). The cache holds one entry per distinct value; per-step code uses a handful
/// (constants, batch sizes).
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
