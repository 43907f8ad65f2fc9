using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Models;

/// <summary>One unit of <c>--unfreeze-top K</c> and of the layer groups: a module with parameters, in forward order.</summary>
/// <param name="Name">state_dict prefix ("conv1", "layer4.1", "features.28").</param>
/// <param name="Module">The module.</param>
public sealed record FreezeBlock(string Name, nn.Module Module);

/// <summary>
/// Freezing for transfer learning (Keras <c>layer.trainable = False</c>): frozen parameters get
/// <c>requires_grad = false</c>, and frozen BatchNorm layers are kept in inference mode (running statistics used and
/// left unchanged), as Keras does since 2.1.3, through <see cref="KeepFrozenBatchNormInEval"/> which the trainer calls
/// after every <c>model.train()</c>.
/// </summary>
/// <remarks>
/// "Layers" are the rows of <see cref="ModelSummary"/> in the order <c>sharpvision summary</c> prints them;
/// "blocks" (<see cref="Blocks"/>) are coarser: for each top-level child below the head, its children when it is a
/// Sequential (ResNet's residual blocks <c>layer4.1</c>, VGG's <c>features.28</c>), else the child itself
/// (<c>conv1</c>). Only blocks holding parameters count.
/// </remarks>
public static class Freezing
{
    /// <summary>The <c>--freeze</c> value that freezes everything but the head.</summary>
    public const string BackboneSpec = "backbone";

    /// <summary>
    /// Checks a <c>--freeze</c> value: <c>backbone</c> or an integer N &gt;= 0 (the first N layers <c>summary</c> lists).
    /// The upper bound depends on the model and is checked by <see cref="Apply"/>.
    /// </summary>
    /// <exception cref="InvalidOptionException">Neither form.</exception>
    public static void ValidateSpec(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec != BackboneSpec && !TryLayers(spec, out _))
            throw new InvalidOptionException("Freezing.Freeze", "backbone or an integer >= 0 (the first N layers `summary` lists)", spec);
    }

    /// <summary>
    /// Applies a <c>--freeze</c> value (the one <c>train</c> and <c>summary</c> share): <c>backbone</c> runs
    /// <see cref="FreezeBackbone"/>, N runs <see cref="FreezeFirst"/>. Returns what was done, for the log.
    /// </summary>
    /// <exception cref="InvalidOptionException">A malformed value, or N beyond the model's layer count.</exception>
    public static string Apply(ImageClassifier model, string spec)
    {
        ArgumentNullException.ThrowIfNull(model);
        ValidateSpec(spec);
        if (spec == BackboneSpec)
        {
            FreezeBackbone(model);
            return "Freezing.Freeze backbone: everything but the head frozen";
        }
        TryLayers(spec, out int n);
        int rows = FreezeFirst(model, n);
        return $"Freezing.Freeze {n}: the first {n} of {rows} layers frozen";
    }

    private static bool TryLayers(string spec, out int layers) =>
        int.TryParse(spec, NumberStyles.None, CultureInfo.InvariantCulture, out layers) && layers >= 0;

    /// <summary>Freezes the first <paramref name="layers"/> summary rows (their parameters); returns how many rows there are.</summary>
    /// <exception cref="InvalidOptionException"><paramref name="layers"/> outside 0..rows.</exception>
    public static int FreezeFirst(ImageClassifier model, int layers)
    {
        ArgumentNullException.ThrowIfNull(model);
        var pre = model.Info.Preprocessing;
        var rows = ModelSummary.Build(model, pre.Size, pre.Channels).Rows;
        if (layers < 0 || layers > rows.Count)
            throw new InvalidOptionException("Freezing.Freeze", $"an integer from 0 to {rows.Count} (the layers `summary` lists for {model.Info.Architecture}) or backbone",
                layers.ToString(CultureInfo.InvariantCulture));
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        foreach (var row in rows.Take(layers))
            if (modules.TryGetValue(row.Name, out var module))
                SetTrainable(module, false);
        return rows.Count;
    }

    /// <summary>Freezes everything but <see cref="ImageClassifier.HeadModules"/>.</summary>
    public static void FreezeBackbone(ImageClassifier model)
    {
        ArgumentNullException.ThrowIfNull(model);
        SetTrainable(model, false);
        foreach (var head in model.HeadModules())
            SetTrainable(head, true);
    }

    /// <summary>Makes every parameter trainable again.</summary>
    public static void Unfreeze(ImageClassifier model) => SetTrainable(model, true);

    /// <summary>
    /// Freezes the backbone, then unfreezes its last <paramref name="blocks"/> blocks (<see cref="Blocks"/>);
    /// the head stays trainable. Blocks beyond the count unfreeze everything.
    /// </summary>
    public static void UnfreezeTop(ImageClassifier model, int blocks)
    {
        if (blocks < 0) throw new InvalidOptionException("Freezing.UnfreezeTop", "an integer >= 0", blocks.ToString(CultureInfo.InvariantCulture));
        FreezeBackbone(model);
        foreach (var block in Blocks(model).TakeLast(blocks))
            SetTrainable(block.Module, true);
    }

    /// <summary>Sets <c>requires_grad</c> on every parameter of <paramref name="module"/>.</summary>
    public static void SetTrainable(nn.Module module, bool trainable)
    {
        foreach (var p in module.parameters())
            p.requires_grad = trainable;
    }

    /// <summary>True when no parameter below the head is trainable (the backbone is a fixed feature extractor).</summary>
    public static bool IsBackboneFrozen(ImageClassifier model)
    {
        var head = new HashSet<IntPtr>(model.HeadModules().SelectMany(m => m.parameters()).Select(p => p.Handle));
        return model.parameters().Where(p => !head.Contains(p.Handle)).All(p => !p.requires_grad);
    }

    /// <summary>(trainable, non-trainable) parameter elements, the counts <c>summary</c> prints.</summary>
    public static (long Trainable, long NonTrainable) Count(nn.Module model)
    {
        long trainable = 0, frozen = 0;
        foreach (var p in model.parameters())
        {
            if (p.requires_grad) trainable += p.numel();
            else frozen += p.numel();
        }
        return (trainable, frozen);
    }

    /// <summary>
    /// The backbone's blocks in forward order (the head excluded): see the class remarks. Order follows the
    /// summary's first appearance of each block's layers.
    /// </summary>
    public static IReadOnlyList<FreezeBlock> Blocks(ImageClassifier model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var head = new HashSet<IntPtr>(model.HeadModules().SelectMany(m => m.parameters()).Select(p => p.Handle));
        var blocks = new List<FreezeBlock>();
        foreach (var (name, child) in model.named_children())
        {
            if (child is Sequential seq)
            {
                foreach (var (inner, module) in seq.named_children())
                    blocks.Add(new FreezeBlock(name + "." + inner, module));
            }
            else
            {
                blocks.Add(new FreezeBlock(name, child));
            }
        }
        // Keep blocks with parameters that are not the head's, in the order the forward pass reaches them.
        blocks = blocks.Where(b => b.Module.parameters().Any() && !b.Module.parameters().Any(p => head.Contains(p.Handle))).ToList();
        var pre = model.Info.Preprocessing;
        var order = ModelSummary.Build(model, pre.Size, pre.Channels).Rows.Select((r, i) => (r.Name, i)).ToList();
        int First(FreezeBlock b)
        {
            foreach (var (rowName, i) in order)
                if (rowName == b.Name || rowName.StartsWith(b.Name + ".", StringComparison.Ordinal)) return i;
            return int.MaxValue;
        }
        return blocks.OrderBy(First).ToList();
    }

    /// <summary>
    /// fastai-style layer groups for discriminative learning rates: the trainable backbone blocks split into
    /// <paramref name="backboneGroups"/> consecutive groups of near-equal block count, then the head.
    /// Groups are returned head first, then from the top of the backbone down to the input side (the order of
    /// <c>DiscriminativeRates</c>); empty groups are dropped.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<Parameter>> LayerGroups(ImageClassifier model, int backboneGroups = 2)
    {
        var blocks = Blocks(model).Where(b => b.Module.parameters().Any(p => p.requires_grad)).ToList();
        var groups = new List<IReadOnlyList<Parameter>>();
        int n = Math.Min(backboneGroups, blocks.Count);
        for (int g = 0; g < n; g++)
        {
            int from = g * blocks.Count / n, to = (g + 1) * blocks.Count / n;
            var ps = blocks.Skip(from).Take(to - from).SelectMany(b => b.Module.parameters()).Where(p => p.requires_grad).ToList();
            if (ps.Count > 0) groups.Add(ps);
        }
        // Parameters in no block (e.g. a loose tensor on the model) go with the first backbone group.
        var seen = new HashSet<IntPtr>(groups.SelectMany(g => g).Select(p => p.Handle));
        var headParams = model.HeadModules().SelectMany(m => m.parameters()).Where(p => p.requires_grad).ToList();
        foreach (var p in headParams) seen.Add(p.Handle);
        var loose = model.parameters().Where(p => p.requires_grad && !seen.Contains(p.Handle)).ToList();
        if (loose.Count > 0)
        {
            if (groups.Count == 0) groups.Add(loose);
            else groups[0] = [.. groups[0], .. loose];
        }
        if (headParams.Count > 0) groups.Add(headParams);
        groups.Reverse();
        return groups;
    }

    /// <summary>
    /// Puts every BatchNorm layer whose parameters are all frozen into eval mode, so it normalises with (and does not
    /// update) its running statistics. Call after <c>model.train()</c>. Returns how many layers it switched.
    /// </summary>
    public static int KeepFrozenBatchNormInEval(nn.Module model)
    {
        int n = 0;
        foreach (var (_, m) in model.named_modules())
        {
            if (m is not (BatchNorm1d or BatchNorm2d or BatchNorm3d)) continue;
            var ps = m.parameters().ToList();
            if (ps.Count == 0 || ps.Any(p => p.requires_grad)) continue;
            m.eval();
            n++;
        }
        return n;
    }
}
