using System.Globalization;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Models;

/// <summary>One summary row: a layer a user could freeze, in forward order.</summary>
/// <param name="Name">state_dict prefix of the layer ("conv2d_1", "layer1.0.conv1", "fc").</param>
/// <param name="Type">Layer type ("Conv2D" for builder models, the TorchSharp module type otherwise).</param>
/// <param name="OutputShape">Output shape without the batch axis, channel-first: [C, H, W] or [F].</param>
/// <param name="Params">Number of parameter elements (buffers such as BatchNorm running stats excluded).</param>
/// <param name="Trainable">False when any of its parameters has requires_grad off.</param>
public sealed record SummaryRow(string Name, string Type, long[] OutputShape, long Params, bool Trainable)
{
    /// <summary>"(None, 64, 112, 112)".</summary>
    public string ShapeText => SequentialModel.ShapeText(OutputShape);
}

/// <summary>
/// Keras-style model summary. Convention: counts are PyTorch parameters only; BatchNorm running statistics are
/// buffers, reported apart in <see cref="BufferElements"/> (Keras would count them as non-trainable params).
/// Non-trainable = parameters with requires_grad off (frozen). Shapes use PyTorch's channel-first order.
/// Builder/YAML models list every layer (pools and activations included) from shape inference; other networks
/// list their leaf modules in the order a forward pass at the given size calls them (forward hooks).
/// </summary>
public sealed record ModelSummary(string Architecture, IReadOnlyList<SummaryRow> Rows,
    long TotalParams, long TrainableParams, long NonTrainableParams, long BufferElements)
{
    /// <summary>Builds the summary for a <paramref name="imageSize"/> x <paramref name="imageSize"/> input.</summary>
    public static ModelSummary Build(ImageClassifier model, int imageSize, int channels)
    {
        var rows = model is SequentialModel seq ? SequentialRows(seq, imageSize, channels) : HookedRows(model, imageSize, channels);
        long total = 0, trainable = 0;
        foreach (var p in model.parameters())
        {
            total += p.numel();
            if (p.requires_grad) trainable += p.numel();
        }
        long buffers = model.named_buffers().Where(b => !b.name.EndsWith("num_batches_tracked", StringComparison.Ordinal)).Sum(b => b.buffer.numel());
        return new ModelSummary(model.Info.Architecture, rows, total, trainable, total - trainable, buffers);
    }

    /// <summary>
    /// Plain-text table with totals, Keras-like (<c>model.summary(show_trainable=True)</c>): one row per layer with a
    /// Trainable column (Y, N when frozen, - when the layer has no parameters), then Total / Trainable /
    /// Non-trainable params.
    /// </summary>
    public string ToText()
    {
        const string h1 = "Layer", h2 = "Type", h3 = "Output Shape", h4 = "Param #", h5 = "Trainable";
        int w1 = Math.Max(h1.Length, Rows.Count == 0 ? 0 : Rows.Max(r => r.Name.Length));
        int w2 = Math.Max(h2.Length, Rows.Count == 0 ? 0 : Rows.Max(r => r.Type.Length));
        int w3 = Math.Max(h3.Length, Rows.Count == 0 ? 0 : Rows.Max(r => r.ShapeText.Length));
        int w4 = Math.Max(h4.Length, Rows.Count == 0 ? 0 : Rows.Max(r => N(r.Params).Length));
        int width = w1 + w2 + w3 + w4 + h5.Length + 8;
        var sb = new StringBuilder();
        sb.Append("Model: \"").Append(Architecture).Append("\"\n");
        sb.Append(new string('=', width)).Append('\n');
        sb.Append(h1.PadRight(w1)).Append("  ").Append(h2.PadRight(w2)).Append("  ").Append(h3.PadRight(w3)).Append("  ").Append(h4.PadLeft(w4))
          .Append("  ").Append(h5).Append('\n');
        sb.Append(new string('-', width)).Append('\n');
        foreach (var r in Rows)
            sb.Append(r.Name.PadRight(w1)).Append("  ").Append(r.Type.PadRight(w2)).Append("  ").Append(r.ShapeText.PadRight(w3)).Append("  ")
              .Append(N(r.Params).PadLeft(w4)).Append("  ").Append(TrainableMark(r)).Append('\n');
        sb.Append(new string('=', width)).Append('\n');
        sb.Append("Total params: ").Append(N(TotalParams)).Append('\n');
        sb.Append("Trainable params: ").Append(N(TrainableParams)).Append('\n');
        sb.Append("Non-trainable params: ").Append(N(NonTrainableParams)).Append('\n');
        if (BufferElements > 0) sb.Append("Buffers (BatchNorm running stats, not params): ").Append(N(BufferElements)).Append('\n');
        return sb.ToString();
    }

    /// <summary>Keras' Trainable column: "-" for a layer without parameters (nothing to train), else Y or N.</summary>
    private static string TrainableMark(SummaryRow r) => r.Params == 0 ? "-" : r.Trainable ? "Y" : "N";

    private static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    private static (long count, bool trainable) Count(nn.Module? m)
    {
        if (m is null) return (0, true);
        long n = 0;
        bool trainable = true;
        foreach (var p in m.parameters())
        {
            n += p.numel();
            trainable &= p.requires_grad;
        }
        return (n, trainable);
    }

    private static List<SummaryRow> SequentialRows(SequentialModel model, int imageSize, int channels)
    {
        var shapes = SequentialModel.InferShapes(model.Spec, imageSize, channels);
        var layers = model.Layers;
        var rows = new List<SummaryRow>(layers.Count);
        for (int i = 0; i < layers.Count; i++)
        {
            var (count, trainable) = Count(layers[i].Module);
            string type = layers[i].Spec switch
            {
                ActivationSpec a => $"Activation({KerasNames.Of(a.Activation)})",
                Conv2DSpec { Activation: not ActivationKind.Linear } c => $"Conv2D({KerasNames.Of(c.Activation)})",
                DenseSpec { Activation: not ActivationKind.Linear } d => $"Dense({KerasNames.Of(d.Activation)})",
                var s => s.TypeName,
            };
            rows.Add(new SummaryRow(layers[i].Name, type, shapes[i], count, trainable));
        }
        return rows;
    }

    private static List<SummaryRow> HookedRows(ImageClassifier model, int imageSize, int channels)
    {
        var leaves = model.named_modules()
            .Where(m => !string.IsNullOrEmpty(m.name) && !m.module.children().Any())
            .ToList();
        var rows = new List<SummaryRow>();
        var seen = new HashSet<string>();
        var removers = new List<Action>();
        foreach (var (name, module) in leaves)
        {
            if (module is not nn.Module<Tensor, Tensor> typed) continue;
            var (count, trainable) = Count(module);
            var remover = typed.register_forward_hook((m, input, output) =>
            {
                // A module called twice (a block's shared ReLU) is listed once, where it first runs.
                if (seen.Add(name)) rows.Add(new SummaryRow(name, module.GetType().Name, output.shape.Skip(1).ToArray(), count, trainable));
                return output;
            });
            removers.Add(remover.remove);
        }
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var device = model.parameters().FirstOrDefault()?.device ?? CPU;
            model.call(zeros(1, channels, imageSize, imageSize, device: device));
        }
        finally
        {
            foreach (var remove in removers) remove();
            if (wasTraining) model.train();
        }
        // Leaves with parameters that the forward pass never reached still count: list them at the end.
        foreach (var (name, module) in leaves)
            if (!seen.Contains(name) && Count(module).count > 0)
                rows.Add(new SummaryRow(name, module.GetType().Name, [], Count(module).count, Count(module).trainable));
        return rows;
    }
}
