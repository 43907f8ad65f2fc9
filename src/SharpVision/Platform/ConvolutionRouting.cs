namespace SharpVision.Platform;

/// <summary>
/// Detours around two faults of oneDNN 3.7.1 (inside libtorch 2.10) on CPUs that hide their cache sizes, for when
/// <see cref="OneDnnCacheFix"/> cannot fix their cause in place and <see cref="OneDnnSwitch"/> cannot turn oneDNN off,
/// or on request (SHARPVISION_ONEDNN_WORKAROUNDS=routing: faster than oneDNN off, but partial). <see cref="Models.Conv2d"/> follows <see cref="Current"/>, which <see cref="TorchRuntime"/> sets.
/// <list type="bullet">
/// <item><b>Strided 1x1 convolutions</b> (ResNet-50's downsample shortcuts): the brgemm backward-data kernel divides by
/// zero (<c>brg_blocking_t::est_eff_1x1</c>, SIGFPE). A 1x1 convolution with stride s equals a stride-1 1x1 convolution
/// of the input subsampled by <c>[:, :, ::s, ::s]</c> (same weights, same output), which never reaches that code in
/// NCHW training.</item>
/// <item><b>Narrow convolutions</b>: padded reorders lose data, so a kxk convolution whose output channels are not a
/// multiple of the channel block gets wrong input gradients (sometimes NaN: the YOLO NaN). The output channels are
/// zero-padded to a multiple of 16 (zero weight rows, extra outputs dropped) when the input needs a gradient.</item>
/// </list>
/// These cover every convolution of the model zoo (<c>sharpvision doctor --numerics --models ...</c> checks them against
/// float64), not every shape: a kxk convolution whose INPUT channels are off the block (24 -> 40) still gets wrong
/// forward values, which the doctor's self-test shows. The cache fix is the real cure, oneDNN off the safe fallback.
/// </summary>
public sealed record ConvolutionRouting(bool SubsampleStrided1x1, bool PadNarrowOutputs, string Reason)
{
    /// <summary>The channel block of oneDNN's AVX-512 kernels (AVX2's 8 divides it).</summary>
    public const int ChannelBlock = 16;

    /// <summary>The environment variable that overrides the decision: auto (default), routing, no-onednn, off.</summary>
    public const string EnvironmentVariable = "SHARPVISION_ONEDNN_WORKAROUNDS";

    /// <summary>Nothing rerouted.</summary>
    public static readonly ConvolutionRouting None = new(false, false, "");

    private static ConvolutionRouting? _current;

    /// <summary>
    /// The routing in force (<see cref="TorchRuntime.Initialize"/> decides it first). Settable by a program that knows
    /// better; a set value holds for the process.
    /// </summary>
    public static ConvolutionRouting Current
    {
        get
        {
            if (_current is null) TorchRuntime.Initialize();
            return _current ?? None;
        }
        set => _current = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>The <see cref="EnvironmentVariable"/> value, normalised: auto, routing, no-onednn or off.</summary>
    /// <exception cref="InvalidOptionException">Any other value.</exception>
    public static string ParseSetting(string? setting)
    {
        string value = string.IsNullOrWhiteSpace(setting) ? "auto" : setting.Trim().ToLowerInvariant();
        return value is "auto" or "routing" or "no-onednn" or "off" ? value : throw new InvalidOptionException(EnvironmentVariable, "one of auto, routing, no-onednn, off", setting!);
    }

    /// <summary>
    /// The routing for <paramref name="cpu"/> under <paramref name="setting"/> (auto, routing, no-onednn, off), given
    /// whether oneDNN was made right another way (the cache fix took, or oneDNN is off): detours only where the caches
    /// are hidden and neither was possible.
    /// </summary>
    public static ConvolutionRouting Decide(CpuInfo cpu, string setting, bool oneDnnHandled)
    {
        if (setting is "off" or "no-onednn") return None;
        if (setting == "routing")
            return new(true, true, $"{EnvironmentVariable}=routing: strided 1x1 convolutions as subsample + stride 1, narrow convolutions padded to {ChannelBlock} output channels");
        if (!cpu.IsX86 || !cpu.Isa.Contains("avx2") || !cpu.CacheLeavesHidden || oneDnnHandled) return None;
        return new(true, true,
            $"this CPU hides its cache sizes from CPUID ({cpu.CacheSource}) and oneDNN could neither be fixed in place nor turned off: strided 1x1 convolutions run as subsample + stride 1 (oneDNN 3.7.1 divides by zero there), narrow convolutions padded to {ChannelBlock} output channels (its padded reorders lose data)");
    }

    /// <summary>True when any workaround is on.</summary>
    public bool Active => SubsampleStrided1x1 || PadNarrowOutputs;
}
