using System.Runtime.CompilerServices;
using TorchSharp;

namespace SharpVision.Platform;

/// <summary>
/// Makes libtorch right for this CPU before SharpVision runs anything on it: on a CPU whose CPUID hides its cache
/// sizes it applies <see cref="OneDnnCacheFix"/> (and, where that cannot be applied, <see cref="ConvolutionRouting"/>'s
/// detours). It runs when the SharpVision assembly loads, so before the first convolution; on a CPU that reports its
/// caches it does nothing and does not even load libtorch. First of all it tunes glibc's malloc
/// (<see cref="NativeAllocator"/>), which must precede libtorch's first allocation.
/// </summary>
public static class TorchRuntime
{
    private static readonly object Gate = new();
    private static bool _initialized;

    /// <summary>What the cache fix did, or null when this CPU did not need it (or it was switched off).</summary>
    public static CacheFixResult? CacheFix { get; private set; }

    /// <summary>True when SharpVision turned oneDNN off (the cache fix could not be applied, or no-onednn was asked for).</summary>
    public static bool OneDnnDisabled { get; private set; }

    /// <summary>Why libtorch could not be loaded when <see cref="Initialize"/> needed it (its native libraries are missing), else null.</summary>
    public static string? LibTorchError { get; private set; }

    /// <summary>One line for the user when something was changed, and why (empty when nothing was).</summary>
    public static string Note { get; private set; } = "";

    /// <summary>Loads libtorch_cpu.so (creates no oneDNN primitive); false, with <see cref="LibTorchError"/>, when its native libraries cannot load.</summary>
    private static bool TryLoadLibTorch()
    {
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
            return true;
        }
        catch (Exception e) when (e is TypeInitializationException or NotSupportedException or DllNotFoundException)
        {
            var cause = e is TypeInitializationException { InnerException: { } inner } ? inner : e;
            LibTorchError = cause.Message.Split('\n')[0].Trim();
            return false;
        }
    }

#pragma warning disable CA2255 // a library module initializer on purpose: the fix must precede the first oneDNN primitive
    [ModuleInitializer]
    internal static void OnAssemblyLoad()
#pragma warning restore CA2255
    {
        try
        {
            Initialize();
        }
        catch (InvalidOptionException)
        {
            // A bad SHARPVISION_ONEDNN_WORKAROUNDS value: the next explicit Initialize (the CLI's, the first convolution's) reports it.
        }
    }

    /// <summary>
    /// Decides and applies, once per process (later calls return at once). Reads
    /// <see cref="ConvolutionRouting.EnvironmentVariable"/>: auto (default: the cache fix; where it cannot apply, oneDNN
    /// off), routing (the convolution detours instead: faster than oneDNN off, partial), no-onednn, off (nothing:
    /// reproduces the faults).
    /// </summary>
    /// <exception cref="InvalidOptionException">That variable holds another value.</exception>
    public static void Initialize()
    {
        lock (Gate)
        {
            if (_initialized) return;
            // Before libtorch allocates anything: glibc then serves its blocks from memory it keeps.
            NativeAllocator.Apply();
            var cpu = CpuInfo.Current;
            string setting = ConvolutionRouting.ParseSetting(Environment.GetEnvironmentVariable(ConvolutionRouting.EnvironmentVariable));
            bool hidden = cpu.IsX86 && cpu.CacheLeavesHidden;
            if ((setting == "no-onednn" || (setting == "auto" && hidden)) && !TryLoadLibTorch())
            {
                // Nothing to fix in a libtorch that is not there; ONNX models still run (they never call TorchSharp).
                Note = $"libtorch cannot be loaded ({LibTorchError}): only .onnx models can run";
                _initialized = true;
                return;
            }
            if (setting == "auto" && hidden)
                CacheFix = OneDnnCacheFix.TryApply();
            string disabledNote = "";
            if (setting == "no-onednn" || (setting == "auto" && hidden && CacheFix is { Applied: false }))
            {
                try
                {
                    OneDnnSwitch.SetEnabled(false);
                    OneDnnDisabled = true;
                    disabledNote = "oneDNN is off: convolutions run on libtorch's own path (right on every CPU, about 3x slower)";
                }
                catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
                {
                    disabledNote = $"oneDNN could not be turned off ({e.Message})";
                }
            }
            var routing = ConvolutionRouting.Decide(cpu, setting, CacheFix?.Applied == true || OneDnnDisabled);
            ConvolutionRouting.Current = routing;
            Note = CacheFix is { Applied: true }
                ? $"this CPU hides its cache sizes from CPUID ({cpu.CacheSource}): {CacheFix.Detail}"
                : string.Join("; ", new[] { CacheFix is { } failed ? $"this CPU hides its cache sizes from CPUID and oneDNN could not be fixed in place ({failed.Detail})" : "", disabledNote, routing.Reason }.Where(t => t.Length > 0));
            _initialized = true;
        }
    }
}
