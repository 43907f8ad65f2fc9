using SharpVision.Platform;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Training;

/// <summary>
/// bfloat16 mixed-precision training on the CPU (<see cref="Precision.Bf16"/>): the forward pass of each training step
/// runs under libtorch's CPU autocast (<see cref="Autocast"/>, PyTorch's <c>torch.autocast("cpu", torch.bfloat16)</c>),
/// so convolutions, linear layers and matrix products compute in bfloat16 on oneDNN's AVX512-BF16/AMX kernels; the
/// model's output is cast to float32 before the loss; backward runs outside autocast and gives float32 gradients
/// (autograd goes back through the casts); the optimizer steps the float32 weights with float32 state.
/// <para>
/// Why autocast and not a bfloat16 copy of the model whose weights are refreshed from float32 masters after each step:
/// the trainer takes any module and cannot clone it, and a copy would have bfloat16 BatchNorm running statistics
/// (7-bit mantissas that a momentum of 0.1 barely moves) to copy back into the masters. Under autocast the model is
/// the masters: its parameters, BatchNorm statistics (libtorch's CPU batch norm takes bfloat16 input with float32
/// weights and statistics), optimizer, checkpoints, validation and saved files are all float32 as in an fp32 run,
/// and the bfloat16 casts of the weights live only inside one forward pass (libtorch's autocast cache, cleared when
/// the region ends, so nothing grows from step to step and no stale cast survives an optimizer step).
/// </para>
/// </summary>
public static class MixedPrecision
{
    /// <summary>How settings files and messages spell <paramref name="precision"/>: fp32, bf16.</summary>
    public static string Name(Precision precision) => precision.ToString().ToLowerInvariant();

    /// <summary>Why <paramref name="cpu"/> (and this libtorch) cannot train in <paramref name="precision"/>, or null when it can.</summary>
    public static string? Unsupported(Precision precision, CpuInfo cpu)
    {
        ArgumentNullException.ThrowIfNull(cpu);
        if (precision == Precision.Fp32) return null;
        // Without these instructions oneDNN emulates bfloat16 (slower than float32): refused rather than quietly slow.
        if (!cpu.HasAvx512Bf16 && !cpu.HasAmxBf16)
            return $"this CPU ({(cpu.Brand.Length > 0 ? cpu.Brand : "unknown")}) has neither avx512_bf16 nor amx_bf16, which bf16 training needs " +
                   "(AMD Zen 4 or later, Intel Cooper Lake, Sapphire Rapids or later)";
        if (!Autocast.IsAvailable)
            return "this libtorch build does not export the autocast functions bf16 training runs on";
        return null;
    }

    /// <summary>
    /// Throws when <paramref name="precision"/> cannot be trained here: the error names <paramref name="option"/>
    /// (<c>ClassifierTrainOptions.Precision must be fp32: this CPU ... Received: ...=bf16</c>).
    /// </summary>
    /// <param name="precision">The precision asked for.</param>
    /// <param name="option">The setting to name in the error.</param>
    /// <param name="cpu">The processor to check (default: this machine's; tests pass other CPUs' registers).</param>
    /// <exception cref="InvalidOptionException">The CPU lacks bfloat16 instructions, or libtorch lacks autocast.</exception>
    public static void Require(Precision precision, string option, CpuInfo? cpu = null)
    {
        if (Unsupported(precision, cpu ?? CpuInfo.Current) is { } why)
            throw new InvalidOptionException(option, "fp32 here: " + why, Name(precision));
    }

    /// <summary>
    /// The model's output for a training step's input <paramref name="x"/>: plain <c>model.call(x)</c> for
    /// <see cref="Precision.Fp32"/>; under bfloat16 autocast for <see cref="Precision.Bf16"/>, cast back to float32
    /// (a bfloat16 softmax cross-entropy would round the loss to 3 significant digits). Call inside the step's
    /// dispose scope and run backward after it returns (outside autocast, as PyTorch recommends).
    /// </summary>
    public static Tensor Forward(nn.Module<Tensor, Tensor> model, Tensor x, Precision precision)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (precision == Precision.Fp32) return model.call(x);
        Tensor output;
        using (Autocast.Bf16())
            output = model.call(x);
        return output.is_floating_point() && output.dtype != ScalarType.Float32 ? output.to(ScalarType.Float32) : output;
    }
}
