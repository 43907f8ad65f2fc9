using System.Security.Cryptography;
using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Tests.Weights.PyTorch;

/// <summary>What the C# side and the Python peer exchange: raw little-endian float32 and per-tensor SHA-256.</summary>
internal static class TensorFiles
{
    /// <summary>SHA-256 of each tensor's raw bytes (C order), as Python computes with <c>t.numpy().tobytes()</c>.</summary>
    public static Dictionary<string, string> Hashes(nn.Module model)
    {
        var hashes = new Dictionary<string, string>();
        foreach (var (key, t) in model.state_dict())
        {
            using var c = t.detach().cpu().contiguous();
            hashes[key] = Convert.ToHexStringLower(SHA256.HashData(c.bytes));
        }
        return hashes;
    }

    public static Dictionary<string, string> ParseHashes(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(json.Trim().Split('\n')[^1])!;

    public static void WriteFloat32(string path, Tensor t)
    {
        using var c = t.detach().cpu().contiguous().to(ScalarType.Float32);
        File.WriteAllBytes(path, c.bytes.ToArray());
    }

    public static Tensor ReadFloat32(string path, params long[] shape)
    {
        var bytes = File.ReadAllBytes(path);
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return tensor(values).reshape(shape);
    }

    /// <summary>Largest |a - b| and whether every element is within 1e-4 * max(1, |b|) (b = reference).</summary>
    public static (double MaxDiff, bool WithinTolerance) Compare(Tensor actual, Tensor reference)
    {
        using var scope = NewDisposeScope();
        var diff = (actual - reference).abs();
        var bound = reference.abs().clamp_min(1.0) * 1e-4;
        return (diff.max().item<float>(), diff.le(bound).all().item<bool>());
    }

    /// <summary>Non-default BN statistics and affine terms, so a lost or shuffled buffer changes the logits.</summary>
    public static void RandomiseBatchNorm(nn.Module model)
    {
        // Same ranges as the Python peer's script: scales in [0.25, 0.75] keep deep ResNets' logits near 1.
        using var noGrad = no_grad();
        foreach (var bn in model.modules().OfType<BatchNorm2d>())
        {
            bn.running_mean!.normal_(0, 0.1);
            bn.running_var!.uniform_(0.5, 1.5);
            bn.num_batches_tracked!.fill_(7);
            bn.weight!.uniform_(0.25, 0.75);
            bn.bias!.normal_(0, 0.1);
        }
    }
}
