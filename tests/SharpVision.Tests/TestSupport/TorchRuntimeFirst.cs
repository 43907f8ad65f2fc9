using System.Runtime.CompilerServices;
using SharpVision.Platform;

namespace SharpVision.Tests.TestSupport;

/// <summary>
/// Some tests call TorchSharp before touching any SharpVision type. The oneDNN cache fix must come before the first
/// convolution of the process (oneDNN caches each primitive with the blocking it was made with), so the test assembly
/// applies it as it loads, as an application calling TorchSharp first should (README: the oneDNN fix).
/// </summary>
internal static class TorchRuntimeFirst
{
#pragma warning disable CA2255 // the test assembly is the application here
    [ModuleInitializer]
    internal static void Initialize() => TorchRuntime.Initialize();
#pragma warning restore CA2255
}
