using SharpVision.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpVision.Training.Detection;

/// <summary>The parts of a YOLOv3 loss (each summed over the batch and divided by its size) and the boxes it could not use.</summary>
/// <param name="Total">xy + wh + objectness + class.</param>
/// <param name="Xy">Centre offsets: cross-entropy against the true offset in the cell, scaled by 2 - w*h.</param>
/// <param name="Wh">Log sizes: half squared error, scaled by 2 - w*h.</param>
/// <param name="Objectness">Cross-entropy: positives at assigned anchors, negatives elsewhere unless ignored.</param>
/// <param name="Class">Per-class cross-entropy at assigned anchors.</param>
/// <param name="DroppedBoxes">Boxes of zero (or non-finite) size skipped when building targets.</param>
public sealed record YoloLossParts(Tensor Total, Tensor Xy, Tensor Wh, Tensor Objectness, Tensor Class, int DroppedBoxes);

/// <summary>Where a ground-truth box was assigned: head, anchor of that head, cell column and row, output row.</summary>
public readonly record struct YoloAssignment(int Head, int Anchor, int Column, int Row, int OutputRow);

/// <summary>
/// The YOLOv3 loss as keras-yolo3's <c>yolo_loss</c> defines it. Each box goes to the anchor (over all heads) whose
/// shape, placed at the origin, has the best IoU with the box's shape, in the cell holding its centre. Targets are
/// built on the CPU from [B, M, 5] labels (x1, y1, x2, y2, class in input pixels; class &lt; 0 = padding).
/// </summary>
public static class YoloLoss
{
    /// <summary>A prediction is not penalised as background when its IoU with a true box of its head exceeds this.</summary>
    public const float IgnoreThreshold = .5f;

    /// <summary>The anchor with the best IoU of shapes at the origin (first on ties, as argmax).</summary>
    public static int BestAnchor(float w, float h, IReadOnlyList<(float W, float H)> anchors)
    {
        int best = 0;
        double bestIou = -1;
        for (int a = 0; a < anchors.Count; a++)
        {
            double inter = Math.Min(w, anchors[a].W) * (double)Math.Min(h, anchors[a].H);
            double iou = inter / (w * (double)h + anchors[a].W * (double)anchors[a].H - inter);
            if (iou > bestIou) { bestIou = iou; best = a; }
        }
        return best;
    }

    /// <summary>Assigns a box (input pixels) to its head, anchor and cell, or null when its size is not positive and finite.</summary>
    public static YoloAssignment? Assign(YoloNet model, float x1, float y1, float x2, float y2)
    {
        float w = x2 - x1, h = y2 - y1;
        if (!(w > 0 && h > 0 && float.IsFinite(w) && float.IsFinite(h))) return null;
        int best = BestAnchor(w, h, model.AllAnchors);
        for (int l = 0; l < model.Heads.Count; l++)
        {
            var head = model.Heads[l];
            int k = head.Mask.ToList().IndexOf(best);
            if (k < 0) continue;
            float cx = (x1 + x2) / 2, cy = (y1 + y2) / 2;
            int col = Math.Clamp((int)Math.Floor(cx / model.InputSize * head.GridW), 0, head.GridW - 1);
            int row = Math.Clamp((int)Math.Floor(cy / model.InputSize * head.GridH), 0, head.GridH - 1);
            return new YoloAssignment(l, k, col, row, head.Offset + (k * head.GridH + row) * head.GridW + col);
        }
        return null; // the best anchor is in no head's mask (a cfg that leaves anchors unused)
    }

    /// <summary>
    /// The loss of raw outputs [B, N, 5+K] (from <see cref="YoloModel.forward"/>) against labels [B, M, 5].
    /// </summary>
    public static YoloLossParts Compute(YoloNet model, Tensor raw, Tensor labels)
    {
        using var scope = NewDisposeScope();
        int b = (int)raw.shape[0], n = model.Rows, k = model.Classes, size = model.InputSize;
        int m = labels.dim() == 3 ? (int)labels.shape[1] : 0;
        var lab = m == 0 ? [] : labels.to(float32).cpu().contiguous().data<float>().ToArray();

        // Targets per output row: tx, ty (offset in the cell), tw, th (log of size / anchor), object, scale, classes.
        int width = 6 + k;
        var target = new float[(long)b * n * width];
        // True boxes per image and head (centre x, y, w, h in input pixels) for the ignore mask.
        var truths = new List<float[]>[b, model.Heads.Count];
        int dropped = 0, maxTruths = 0;
        for (int i = 0; i < b; i++)
        {
            for (int l = 0; l < model.Heads.Count; l++) truths[i, l] = [];
            for (int j = 0; j < m; j++)
            {
                int o = (i * m + j) * 5;
                int cls = (int)lab[o + 4];
                if (lab[o + 4] < 0) continue; // padding
                float x1 = lab[o], y1 = lab[o + 1], x2 = lab[o + 2], y2 = lab[o + 3];
                if (cls >= k) throw new DatasetException($"a box has class {cls} but the model has {k} classes");
                var at = Assign(model, x1, y1, x2, y2);
                if (at is not { } a) { dropped++; continue; }
                var head = model.Heads[a.Head];
                float w = x2 - x1, h = y2 - y1, cx = (x1 + x2) / 2, cy = (y1 + y2) / 2;
                long t = ((long)i * n + a.OutputRow) * width;
                target[t] = cx / size * head.GridW - a.Column;
                target[t + 1] = cy / size * head.GridH - a.Row;
                target[t + 2] = MathF.Log(w / head.Anchors[a.Anchor].W);
                target[t + 3] = MathF.Log(h / head.Anchors[a.Anchor].H);
                target[t + 4] = 1;
                target[t + 5] = 2 - (w / size) * (h / size);
                // A later box on the same anchor and cell replaces the earlier one (keras-yolo3 does the same).
                Array.Clear(target, (int)(t + 6), k);
                target[t + 6 + cls] = 1;
                truths[i, a.Head].Add([cx, cy, w, h]);
                maxTruths = Math.Max(maxTruths, truths[i, a.Head].Count);
            }
        }

        var device = raw.device;
        var tt = tensor(target, [b, n, width]).to(device);
        var obj = tt[.., .., 4];                                                                   // [B, N]
        var scale = tt[.., .., 5];                                                                 // [B, N]
        var ignore = IgnoreMask(model, raw, truths, maxTruths);                                    // [B, N] 1 = counts as background

        var xyLoss = (F.binary_cross_entropy_with_logits(raw[.., .., 0..2], tt[.., .., 0..2], reduction: nn.Reduction.None).sum(2)
                      * obj * scale).sum();
        // Where there is no object the target log-size is 0 and the mask zeroes it: no log(0) reaches the loss.
        var whLoss = ((raw[.., .., 2..4] - tt[.., .., 2..4]).square().sum(2) * obj * scale).sum().mul(Scalars.Of(0.5));
        var objBce = F.binary_cross_entropy_with_logits(raw[.., .., 4], obj, reduction: nn.Reduction.None); // [B, N]
        var objLoss = (obj * objBce + obj.neg().add(Scalars.Of(1)) * objBce * ignore).sum();
        var clsLoss = (F.binary_cross_entropy_with_logits(raw[.., .., 5..], tt[.., .., 6..], reduction: nn.Reduction.None).sum(2) * obj).sum();

        var batch = Scalars.Of(b);
        var parts = new[] { xyLoss.div(batch), whLoss.div(batch), objLoss.div(batch), clsLoss.div(batch) };
        var total = parts[0] + parts[1] + parts[2] + parts[3];
        return new YoloLossParts(total.MoveToOuterDisposeScope(), parts[0].MoveToOuterDisposeScope(), parts[1].MoveToOuterDisposeScope(),
            parts[2].MoveToOuterDisposeScope(), parts[3].MoveToOuterDisposeScope(), dropped);
    }

    /// <summary>
    /// 1 where a prediction's best IoU with the true boxes of its image and head is below <see cref="IgnoreThreshold"/>
    /// (it is trained as background), 0 otherwise. No gradient flows through it.
    /// </summary>
    public static Tensor IgnoreMask(YoloNet model, Tensor raw, List<float[]>[,] truths, int maxTruths)
    {
        int b = (int)raw.shape[0];
        if (maxTruths == 0) return ones(b, model.Rows, device: raw.device);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (pred, _, _) = model.DecodeTensors(raw.detach());                                      // [B, N, 4] cx, cy, w, h
        var parts = new Tensor[model.Heads.Count];
        for (int l = 0; l < model.Heads.Count; l++)
        {
            var head = model.Heads[l];
            // Padding boxes have zero size, so their IoU is 0.
            var data = new float[b * maxTruths * 4];
            for (int i = 0; i < b; i++)
                for (int j = 0; j < truths[i, l].Count; j++)
                    Array.Copy(truths[i, l][j], 0, data, (i * maxTruths + j) * 4, 4);
            var truth = tensor(data, [b, 1, maxTruths, 4]).to(raw.device);                        // [B, 1, T, 4]
            var p = pred[.., head.Offset..(head.Offset + head.Rows)].unsqueeze(2);                 // [B, R, 1, 4]
            var iou = CentreIoU(p, truth);                                                         // [B, R, T]
            parts[l] = iou.amax([2]).lt(Scalars.Of(IgnoreThreshold)).to(float32);                              // [B, R]
        }
        return cat(parts, 1).MoveToOuterDisposeScope();
    }

    /// <summary>IoU of boxes given as centre x, y, width, height in the last dimension (broadcasting).</summary>
    public static Tensor CentreIoU(Tensor a, Tensor b)
    {
        var half = Scalars.Of(.5);
        var aMin = a[.., .., .., 0..2] - a[.., .., .., 2..4].mul(half);
        var aMax = a[.., .., .., 0..2] + a[.., .., .., 2..4].mul(half);
        var bMin = b[.., .., .., 0..2] - b[.., .., .., 2..4].mul(half);
        var bMax = b[.., .., .., 0..2] + b[.., .., .., 2..4].mul(half);
        var wh = (minimum(aMax, bMax) - maximum(aMin, bMin)).clamp_min(Scalars.Of(0));
        var inter = wh[.., .., .., 0] * wh[.., .., .., 1];
        var union = a[.., .., .., 2] * a[.., .., .., 3] + b[.., .., .., 2] * b[.., .., .., 3] - inter;
        return inter / union.clamp_min(Scalars.Of(1e-9));
    }
}
