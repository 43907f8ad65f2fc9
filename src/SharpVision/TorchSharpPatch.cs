using System.Reflection;
using TorchSharp;

namespace SharpVision;

/// <summary>
/// Whether the TorchSharp.dll loaded in this process is the copy SharpVision's build rewrote
/// (build/TorchSharpKeepAlive.targets), in which every method keeps its Scalars and Tensors alive until it returns.
/// <para>
/// Why it matters: the TorchSharp 0.107 package as shipped lets a temporary Scalar (<c>t / 2.0</c>, the implicit
/// alpha of <c>a + b</c>, those inside its optimizers and modules) be finalised while libtorch reads it; a step then
/// fails at random with c10's "Expected false to be true", or computes with garbage. A temporary Tensor outside a
/// dispose scope (<c>dst.copy_(src.to(dtype))</c>) can be freed the same way, and the process segfaults. An app that references
/// SharpVision without importing its build targets gets the unprotected copy.
/// </para>
/// </summary>
public static class TorchSharpPatch
{
    /// <summary>
    /// Key of the assembly-level <see cref="AssemblyMetadataAttribute"/> the rewriter adds
    /// (<c>KeepAliveRewriter.MarkerKey</c> in build/TorchSharpKeepAlive; the two must match).
    /// </summary>
    public const string KeepAliveMarker = "SharpVision.TorchSharpKeepAlive";

    private static readonly Lazy<string?> Version = new(() => typeof(Scalar).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .FirstOrDefault(a => a.Key == KeepAliveMarker)?.Value);

    /// <summary>
    /// The rewrite this SharpVision expects (<c>KeepAliveRewriter.MarkerValue</c>): 1 kept Scalars only, 2 also Tensors.
    /// An older copy counts as not applied.
    /// </summary>
    public const string ExpectedKeepAliveVersion = "2";

    private static int _warned;

    /// <summary>Whether the loaded TorchSharp carries the keep-alive rewrite this SharpVision expects.</summary>
    public static bool IsKeepAliveApplied => Version.Value == ExpectedKeepAliveVersion;

    /// <summary>The version of the rewrite the loaded TorchSharp carries, or null when it is not rewritten.</summary>
    public static string? KeepAliveVersion => Version.Value;

    /// <summary>Where the loaded TorchSharp.dll was read from.</summary>
    public static string TorchSharpLocation => typeof(Scalar).Assembly.Location;

    /// <summary>
    /// Calls <paramref name="warn"/> once per process, and only when the loaded TorchSharp is not rewritten: long
    /// loops (training) are where the unprotected copy fails, and one line is enough to explain it.
    /// </summary>
    public static void WarnOnceIfKeepAliveMissing(Action<string> warn)
    {
        ArgumentNullException.ThrowIfNull(warn);
        if (IsKeepAliveApplied || Interlocked.Exchange(ref _warned, 1) == 1) return;
        string what = Version.Value is null ? "TorchSharp as shipped" : $"rewritten by an older SharpVision (version {Version.Value})";
        warn($"{TorchSharpLocation} is {what}, not SharpVision's rewritten copy: a collection during a native call can "
            + "free a temporary Scalar or Tensor libtorch is reading (random 'Expected false to be true' errors, segfaults). "
            + "Build the app with SharpVision's build/TorchSharpKeepAlive.targets (see the README, 'Known issue').");
    }
}
