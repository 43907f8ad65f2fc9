using System.Runtime.InteropServices;

namespace SharpVision.Platform;

/// <summary>
/// Turns libtorch's use of oneDNN (mkldnn) off for the process: <c>torch.backends.mkldnn.enabled = False</c>, which
/// TorchSharp does not expose. Convolutions then run on libtorch's own im2col + BLAS path: right on every CPU, about
/// 3-4x slower for convolution networks. It is the last resort where <see cref="OneDnnCacheFix"/> cannot repair
/// oneDNN in place (a libtorch build whose internals we do not know). Called through libtorch_cpu's exported C++
/// symbols <c>at::globalContext()</c> and <c>at::Context::setUserEnabledMkldnn(bool)</c> (Itanium names on Linux
/// and macOS, MSVC names on Windows).
/// </summary>
public static class OneDnnSwitch
{
    /// <summary>Whether libtorch currently lets convolutions use oneDNN.</summary>
    public static unsafe bool Enabled
    {
        get
        {
            var (context, _, get) = Resolve();
            return ((delegate* unmanaged<nint, byte>)get)(context) != 0;
        }
    }

    /// <summary>Turns oneDNN off (or back on) for every later libtorch operation of this process.</summary>
    public static unsafe void SetEnabled(bool enabled)
    {
        var (context, set, _) = Resolve();
        ((delegate* unmanaged<nint, byte, void>)set)(context, enabled ? (byte)1 : (byte)0);
    }

    private static unsafe (nint Context, nint Set, nint Get) Resolve()
    {
        // libtorch is loaded already (TorchSharp loaded it): the loader hands back that copy by its name.
        nint library = NativeLibrary.Load(OperatingSystem.IsWindows() ? "torch_cpu.dll" : OperatingSystem.IsMacOS() ? "libtorch_cpu.dylib" : "libtorch_cpu.so");
        bool msvc = OperatingSystem.IsWindows();
        nint globalContext = NativeLibrary.GetExport(library, msvc ? "?globalContext@at@@YAAEAVContext@1@XZ" : "_ZN2at13globalContextEv");
        nint set = NativeLibrary.GetExport(library, msvc ? "?setUserEnabledMkldnn@Context@at@@QEAAX_N@Z" : "_ZN2at7Context20setUserEnabledMkldnnEb");
        nint get = NativeLibrary.GetExport(library, msvc ? "?userEnabledMkldnn@Context@at@@QEBA_NXZ" : "_ZNK2at7Context17userEnabledMkldnnEv");
        return (((delegate* unmanaged<nint>)globalContext)(), set, get);
    }
}
