using System.Runtime.InteropServices;
using TorchSharp;

namespace SharpVision.Platform;

/// <summary>
/// libtorch's CPU autocast, <c>with torch.autocast("cpu", dtype=torch.bfloat16):</c>, which TorchSharp 0.107 does not
/// expose: inside a <see cref="Bf16"/> region, convolutions, linear layers and matrix products cast their inputs and
/// weights to bfloat16 (oneDNN's AVX512-BF16/AMX kernels) while the weights themselves stay float32, and the ops
/// PyTorch keeps in float32 (losses, reductions, ...) get float32 inputs. Autograd records the casts, so the gradients
/// of float32 parameters come back float32. Called through libtorch_cpu's exported C++ functions in
/// <c>at::autocast</c> (like <see cref="OneDnnSwitch"/>; the Itanium names, so Linux and macOS: on Windows
/// <see cref="IsAvailable"/> is false).
/// <para>
/// The state is thread-local, like PyTorch's: enter and leave on the thread that runs the forward pass.
/// </para>
/// </summary>
public static class Autocast
{
    // c10::DeviceType::CPU and c10::ScalarType::BFloat16 (both int8 enums).
    private const sbyte CpuDevice = 0;
    private const sbyte BFloat16 = (sbyte)torch.ScalarType.BFloat16;

    private static readonly Lazy<Entries?> Resolved = new(TryResolve);

    /// <summary>True when this libtorch's autocast functions were found (Linux and macOS builds of libtorch).</summary>
    public static bool IsAvailable => Resolved.Value is not null;

    /// <summary>Whether CPU autocast is on for the calling thread.</summary>
    public static unsafe bool IsEnabled =>
        Resolved.Value is { } e && ((delegate* unmanaged<sbyte, byte>)e.IsEnabled)(CpuDevice) != 0;

    /// <summary>
    /// Turns bfloat16 CPU autocast on for the calling thread until the result is disposed, which puts the previous
    /// state back and frees the bfloat16 copies of the weights made inside (libtorch caches them per region: they
    /// must not outlive an optimizer step, or the next forward would read stale weights).
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">This libtorch does not export the autocast functions.</exception>
    public static unsafe IDisposable Bf16()
    {
        var e = Resolved.Value ?? throw new PlatformNotSupportedException(
            "libtorch's autocast functions (at::autocast::set_autocast_enabled, ...) are not exported by this libtorch build.");
        bool wasEnabled = ((delegate* unmanaged<sbyte, byte>)e.IsEnabled)(CpuDevice) != 0;
        sbyte oldType = ((delegate* unmanaged<sbyte, sbyte>)e.GetDtype)(CpuDevice);
        bool oldCache = ((delegate* unmanaged<byte>)e.IsCacheEnabled)() != 0;
        // torch.amp.autocast.__enter__ for the CPU.
        ((delegate* unmanaged<sbyte, byte, void>)e.SetEnabled)(CpuDevice, 1);
        ((delegate* unmanaged<sbyte, sbyte, void>)e.SetDtype)(CpuDevice, BFloat16);
        ((delegate* unmanaged<int>)e.IncrementNesting)();
        ((delegate* unmanaged<byte, void>)e.SetCacheEnabled)(1);
        return new Region(e, wasEnabled, oldType, oldCache);
    }

    private sealed class Region(Entries e, bool wasEnabled, sbyte oldType, bool oldCache) : IDisposable
    {
        private bool _disposed;

        public unsafe void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            // torch.amp.autocast.__exit__: the outermost region drops the cached casts.
            if (((delegate* unmanaged<int>)e.DecrementNesting)() == 0)
                ((delegate* unmanaged<void>)e.ClearCache)();
            ((delegate* unmanaged<sbyte, byte, void>)e.SetEnabled)(CpuDevice, wasEnabled ? (byte)1 : (byte)0);
            ((delegate* unmanaged<sbyte, sbyte, void>)e.SetDtype)(CpuDevice, oldType);
            ((delegate* unmanaged<byte, void>)e.SetCacheEnabled)(oldCache ? (byte)1 : (byte)0);
        }
    }

    private sealed record Entries(nint IsEnabled, nint SetEnabled, nint GetDtype, nint SetDtype, nint IsCacheEnabled,
        nint SetCacheEnabled, nint IncrementNesting, nint DecrementNesting, nint ClearCache);

    private static Entries? TryResolve()
    {
        if (OperatingSystem.IsWindows()) return null; // MSVC names: not resolved (no Windows libtorch to check them on)
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
            // libtorch is loaded already (TorchSharp loaded it): the loader hands back that copy by its name.
            nint library = NativeLibrary.Load(OperatingSystem.IsMacOS() ? "libtorch_cpu.dylib" : "libtorch_cpu.so");
            nint Export(string name) => NativeLibrary.GetExport(library, name);
            return new Entries(
                IsEnabled: Export("_ZN2at8autocast19is_autocast_enabledEN3c1010DeviceTypeE"),
                SetEnabled: Export("_ZN2at8autocast20set_autocast_enabledEN3c1010DeviceTypeEb"),
                GetDtype: Export("_ZN2at8autocast18get_autocast_dtypeEN3c1010DeviceTypeE"),
                SetDtype: Export("_ZN2at8autocast18set_autocast_dtypeEN3c1010DeviceTypeENS1_10ScalarTypeE"),
                IsCacheEnabled: Export("_ZN2at8autocast25is_autocast_cache_enabledEv"),
                SetCacheEnabled: Export("_ZN2at8autocast26set_autocast_cache_enabledEb"),
                IncrementNesting: Export("_ZN2at8autocast17increment_nestingEv"),
                DecrementNesting: Export("_ZN2at8autocast17decrement_nestingEv"),
                ClearCache: Export("_ZN2at8autocast11clear_cacheEv"));
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return null;
        }
    }
}
