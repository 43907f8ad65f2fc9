namespace SharpVision.Training;

/// <summary>The arithmetic of the training steps' forward and backward passes (validation and saved models are float32 either way).</summary>
public enum Precision
{
    /// <summary>float32 throughout.</summary>
    Fp32,

    /// <summary>
    /// Mixed precision (<see cref="MixedPrecision"/>): convolutions and linear layers in bfloat16, float32 weights,
    /// optimizer state, BatchNorm statistics and loss. Needs a CPU with AVX512-BF16 or AMX-BF16.
    /// </summary>
    Bf16,
}
