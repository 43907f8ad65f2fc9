using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Weights;

/// <summary>Strict, checked copies of named tensors into a module (what <c>--weights</c> means).</summary>
public static class StateDicts
{
    /// <summary>
    /// Copies every entry of <paramref name="source"/> into the module's parameters and buffers.
    /// Strict: every key of the module must be present with the same shape, and no key may be left over.
    /// The first offending key is named in the error, with both shapes.
    /// </summary>
    public static void LoadStrict(nn.Module module, IReadOnlyDictionary<string, Tensor> source, string origin)
    {
        var target = module.state_dict();
        foreach (var (key, tensor) in target)
        {
            if (!source.TryGetValue(key, out var value))
                throw new ModelFileException($"{origin}: missing key '{key}' (the model expects shape {Shape(tensor)}).");
            if (!value.shape.SequenceEqual(tensor.shape))
                throw new ModelFileException($"{origin}: key '{key}' has shape {Shape(value)} in the file but {Shape(tensor)} in the model.");
        }
        foreach (var key in source.Keys)
            if (!target.ContainsKey(key))
                throw new ModelFileException($"{origin}: unexpected key '{key}' (shape {Shape(source[key])}) that the model does not have.");

        using var noGrad = no_grad();
        foreach (var (key, tensor) in target)
            tensor.copy_(source[key].to(tensor.dtype));
    }

    /// <summary>A CPU copy of the module's state (parameters and buffers), detached from the module.</summary>
    public static Dictionary<string, Tensor> CloneToCpu(nn.Module module)
    {
        var copy = new Dictionary<string, Tensor>();
        using var noGrad = no_grad();
        foreach (var (key, tensor) in module.state_dict())
            copy[key] = tensor.detach().cpu().clone().DetachFromDisposeScope();
        return copy;
    }

    public static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";
}
