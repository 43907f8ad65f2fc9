using System.CommandLine;
using SharpVision.Training;

namespace SharpVision.Cli;

/// <summary><c>--precision fp32|bf16</c>, declared once for the commands that train (<see cref="Precision"/>).</summary>
internal static class PrecisionFlag
{
    public static Option<string> Create() => Flags.Choice("--precision",
        "training arithmetic: fp32, or bf16 mixed precision (bf16 convolutions, float32 weights, validation and saved model; needs a CPU with AVX512-BF16 or AMX-BF16)",
        MixedPrecision.Name(Precision.Fp32), [.. Enum.GetValues<Precision>().Select(MixedPrecision.Name)]);

    public static Precision Read(ParseResult parse, Option<string> option) =>
        Enum.Parse<Precision>(parse.GetValue(option)!, ignoreCase: true);
}
