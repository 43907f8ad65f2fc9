using System.Globalization;
using System.Runtime.InteropServices;

namespace SharpVision.Platform;

/// <summary>What <see cref="NativeAllocator.Apply"/> decided, and why.</summary>
/// <param name="Applied">True when glibc's malloc now keeps freed memory for reuse.</param>
/// <param name="Detail">One line for <c>doctor</c>: the settings, or why nothing was changed.</param>
public sealed record AllocatorTuning(bool Applied, string Detail);

/// <summary>
/// Tells glibc's malloc to keep the memory libtorch frees, so the next training step reuses it instead of page-faulting
/// fresh pages in.
/// <para>
/// Why: libtorch's CPU allocator is plain malloc. With glibc's defaults a block above the (dynamic) mmap threshold
/// is a fresh <c>mmap</c> and goes back to the kernel on free, and the top of the heap is trimmed as soon as 128 KiB
/// are free; every step then faults its activations and gradients in again, page by page. In a VM a fault costs
/// several microseconds: on a 2-core Zen 5 cloud VM resnet18 training spent 30 % of its time in the kernel (865k minor
/// faults per run), and the same binaries ran 1.7x faster (resnet18) to 7x faster (smallcnn) with
/// <c>MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_/MALLOC_TOP_PAD_</c> set in the shell. glibc reads those variables
/// only at process start, so SharpVision sets the same three parameters with <c>mallopt</c> as its assembly loads,
/// before libtorch allocates anything.
/// </para>
/// <para>
/// Values: mmap threshold 1 GiB, so blocks up to 1 GiB come from the heap and stay there (glibc's adaptive threshold
/// never passes 32 MiB, and one resnet18 batch of 16 at 224 has 51 MiB activations); trim threshold 1 GiB, so freed
/// memory at the top of the heap is kept; top pad 64 MiB, so the heap grows in large steps (address space only; a page
/// costs memory once it is touched). A thread other than the main one allocates from its own 64 MiB heaps, so blocks
/// above 64 MiB made there are still mapped afresh (glibc has no knob for that).
/// Memory is not returned to the system while the process runs: the resident size settles at the training step's peak
/// and stays flat, as with PyTorch's CUDA caching allocator.
/// </para>
/// <para>
/// Only glibc (Linux) has these knobs. musl, Windows and macOS allocators are left alone (Applied false, with the
/// reason). A user who tuned malloc already (any <c>MALLOC_*_</c> variable or <c>GLIBC_TUNABLES</c> with
/// <c>glibc.malloc</c>) keeps their settings; <c>SHARPVISION_MALLOC=default</c> keeps glibc's defaults.
/// </para>
/// </summary>
public static class NativeAllocator
{
    /// <summary>Environment variable: <c>tuned</c> (the default) or <c>default</c> (leave glibc as it is).</summary>
    public const string EnvironmentVariable = "SHARPVISION_MALLOC";

    /// <summary>mallopt's M_MMAP_THRESHOLD value: 1 GiB (glibc's own adaptive threshold stops at 32 MiB).</summary>
    public const int MmapThreshold = 1 << 30;

    /// <summary>mallopt's M_TRIM_THRESHOLD value: 1 GiB.</summary>
    public const int TrimThreshold = 1 << 30;

    /// <summary>mallopt's M_TOP_PAD value: 64 MiB.</summary>
    public const int TopPad = 64 << 20;

    // glibc's malloc.h
    private const int M_TRIM_THRESHOLD = -1, M_TOP_PAD = -2, M_MMAP_THRESHOLD = -3;

    private static readonly object Gate = new();

    /// <summary>The decision made for this process, or null before <see cref="Apply"/> ran.</summary>
    public static AllocatorTuning? Current { get; private set; }

    /// <summary>The platform facts and calls <see cref="Decide"/> works with; tests inject their own.</summary>
    public interface IPlatform
    {
        /// <summary>glibc's version ("2.36"), or null when the C library is not glibc (or this is not Linux).</summary>
        string? GlibcVersion { get; }

        /// <summary>An environment variable of the process, or null.</summary>
        string? Variable(string name);

        /// <summary>Calls <c>mallopt(parameter, value)</c>; glibc returns 1 on success, 0 when it refuses the value.</summary>
        int Mallopt(int parameter, int value);
    }

    /// <summary>
    /// Tunes glibc's malloc once per process (later calls return the first decision). Called by
    /// <see cref="TorchRuntime.Initialize"/> before libtorch loads.
    /// </summary>
    /// <exception cref="InvalidOptionException"><see cref="EnvironmentVariable"/> holds another value than tuned or default.</exception>
    public static AllocatorTuning Apply()
    {
        lock (Gate)
        {
            return Current ??= Decide(new ThisProcess());
        }
    }

    /// <summary>Decides and, where it applies, calls mallopt through <paramref name="platform"/>.</summary>
    /// <exception cref="InvalidOptionException"><see cref="EnvironmentVariable"/> holds another value than tuned or default.</exception>
    public static AllocatorTuning Decide(IPlatform platform)
    {
        string setting = (platform.Variable(EnvironmentVariable) ?? "tuned").Trim().ToLowerInvariant();
        if (setting is not ("tuned" or "default" or ""))
            throw new InvalidOptionException(EnvironmentVariable, "tuned or default", platform.Variable(EnvironmentVariable)!);
        if (platform.GlibcVersion is not { } glibc)
            return new AllocatorTuning(false, "left as it is: the C library is not glibc (mallopt tuning is glibc's)");
        if (setting == "default")
            return new AllocatorTuning(false, $"glibc {glibc} defaults ({EnvironmentVariable}=default)");
        string[] userKnobs = ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_", "MALLOC_ARENA_MAX"];
        var set = userKnobs.Where(name => platform.Variable(name) is not null).ToList();
        if (platform.Variable("GLIBC_TUNABLES") is { } tunables && tunables.Contains("glibc.malloc", StringComparison.Ordinal))
            set.Add("GLIBC_TUNABLES");
        if (set.Count > 0)
            return new AllocatorTuning(false, $"glibc {glibc} as the environment sets it ({string.Join(", ", set)})");

        // The mmap threshold first: setting the trim threshold turns glibc's dynamic mmap threshold off, which
        // would otherwise leave it at 128 KiB.
        var refused = new List<string>();
        if (platform.Mallopt(M_MMAP_THRESHOLD, MmapThreshold) != 1) refused.Add("M_MMAP_THRESHOLD");
        if (platform.Mallopt(M_TRIM_THRESHOLD, TrimThreshold) != 1) refused.Add("M_TRIM_THRESHOLD");
        if (platform.Mallopt(M_TOP_PAD, TopPad) != 1) refused.Add("M_TOP_PAD");
        string values = $"mmap threshold {Mib(MmapThreshold)}, trim threshold {Mib(TrimThreshold)}, top pad {Mib(TopPad)}";
        return refused.Count == 0
            ? new AllocatorTuning(true, $"glibc {glibc} malloc keeps freed memory for reuse ({values}; {EnvironmentVariable}=default keeps glibc's)")
            : new AllocatorTuning(false, $"glibc {glibc} refused {string.Join(", ", refused)} (asked: {values})");
    }

    private static string Mib(int bytes) => (bytes >> 20).ToString(CultureInfo.InvariantCulture) + " MiB";

    /// <summary>The real process: libc's mallopt and gnu_get_libc_version, looked up by name.</summary>
    private sealed class ThisProcess : IPlatform
    {
        public string? GlibcVersion
        {
            get
            {
                if (!OperatingSystem.IsLinux()) return null;
                try
                {
                    return Marshal.PtrToStringUTF8(gnu_get_libc_version());
                }
                catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
                {
                    return null; // musl and other C libraries have no such function
                }
            }
        }

        public string? Variable(string name) => Environment.GetEnvironmentVariable(name);

        public int Mallopt(int parameter, int value) => mallopt(parameter, value);

        [DllImport("libc", EntryPoint = "gnu_get_libc_version")]
        private static extern IntPtr gnu_get_libc_version();

        [DllImport("libc", EntryPoint = "mallopt")]
        private static extern int mallopt(int parameter, int value);
    }
}
