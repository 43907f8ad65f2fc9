using SharpVision.Training;
using SharpVision.Training.Callbacks;
using static SharpVision.Tests.Training.TestKit;

namespace SharpVision.Tests.Training;

public class CallbackScriptTests
{
    private static int RunUntilStop(Trainer trainer, Callback cb, double[] values, string name = "val_loss")
    {
        cb.OnTrainBegin();
        for (int e = 0; e < values.Length; e++)
        {
            cb.OnEpochEnd(e, Logs((name, values[e])));
            if (trainer.StopTraining)
                return e;
        }
        return -1;
    }

    [Fact]
    public void EarlyStopping_with_patience_2_stops_two_epochs_after_the_best()
    {
        // Given val_loss improving once then worsening, patience 2
        var es = new EarlyStopping(patience: 2);
        var (trainer, _, opt) = Attached(callbacks: es);
        using var _ = opt;
        // When driven epoch by epoch
        int stopped = RunUntilStop(trainer, es, [1.0, 0.9, 0.95, 0.96, 0.97]);
        // Then it stops at epoch index 3 (epoch 4): best 0.9 at index 1, no improvement at 2 and 3
        Assert.Equal(3, stopped);
        Assert.Equal(3, es.StoppedEpoch);
        Assert.Equal(0.9, es.Best);
        Assert.Equal(1, es.BestEpoch);
        Assert.Contains("early stopping", trainer.StopReason);
    }

    [Fact]
    public void EarlyStopping_ignores_changes_not_larger_than_min_delta()
    {
        // Given min_delta 0.05: 0.96 after 1.0 is not an improvement
        var es = new EarlyStopping(minDelta: 0.05, patience: 1);
        var (trainer, _, opt) = Attached(callbacks: es);
        using var _ = opt;
        int stopped = RunUntilStop(trainer, es, [1.0, 0.96, 0.5]);
        Assert.Equal(1, stopped);
        Assert.Equal(1.0, es.Best);
    }

    [Fact]
    public void EarlyStopping_in_auto_mode_maximises_accuracy_and_respects_start_from_epoch()
    {
        var es = new EarlyStopping(monitor: "val_accuracy", patience: 1, startFromEpoch: 2);
        var (trainer, _, opt) = Attached(callbacks: es);
        using var _ = opt;
        // Index 0 and 1 ignored (warm-up); 0.8 best at 2, 0.7 at 3 -> wait 1 >= patience -> stop at 3
        int stopped = RunUntilStop(trainer, es, [0.1, 0.05, 0.8, 0.7, 0.9], "val_accuracy");
        Assert.Equal(3, stopped);
        Assert.Equal(0.8, es.Best);
    }

    [Fact]
    public void EarlyStopping_with_baseline_keeps_counting_until_baseline_is_beaten()
    {
        // Given baseline 0.5: values improve but never beat it, so wait never resets
        var es = new EarlyStopping(patience: 3, baseline: 0.5);
        var (trainer, _, opt) = Attached(callbacks: es);
        using var _ = opt;
        int stopped = RunUntilStop(trainer, es, [1.0, 0.9, 0.8, 0.85, 0.7]);
        // wait: 1 (imp), 2 (imp), 3 (imp, not baseline), 4 -> stop at index 3
        Assert.Equal(3, stopped);
    }

    [Fact]
    public void EarlyStopping_restores_best_weights_at_train_end()
    {
        var es = new EarlyStopping(patience: 1, restoreBestWeights: true);
        var (trainer, model, opt) = Attached(callbacks: es);
        using var _ = opt;
        var fcWeight = model.parameters().First();
        es.OnTrainBegin();
        using (TorchSharp.torch.no_grad()) fcWeight.fill_(1f);
        es.OnEpochEnd(0, Logs(("val_loss", 0.5)));            // best: weights all 1
        using (TorchSharp.torch.no_grad()) fcWeight.fill_(7f);
        es.OnEpochEnd(1, Logs(("val_loss", 0.9)));            // worse -> stop
        Assert.True(trainer.StopTraining);
        es.OnTrainEnd(null);
        Assert.All(fcWeight.data<float>().ToArray(), v => Assert.Equal(1f, v));
    }

    [Fact]
    public void ReduceLROnPlateau_with_cooldown_reduces_at_the_right_epochs()
    {
        // Given lr 1.0, patience 1, cooldown 1, factor 0.5, a loss that never improves after epoch 0
        var rl = new ReduceLROnPlateau(factor: 0.5, patience: 1, cooldown: 1, minLr: 0.2);
        var (trainer, _, opt) = Attached(lr: 1.0, callbacks: rl);
        using var _ = opt;
        rl.OnTrainBegin();
        var lrs = new List<double>();
        foreach (var (e, v) in new[] { 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0 }.Select((v, i) => (i, v)))
        {
            rl.OnEpochEnd(e, Logs(("val_loss", v)));
            lrs.Add(trainer.LearningRate);
        }
        // Keras trace: e0 best; e1 wait1 -> reduce 0.5, cd=1; e2 cd->0, wait 0, not in cd -> wait1 -> reduce 0.25, cd=1;
        // e3 cd->0 -> wait1 -> reduce max(0.125, 0.2)=0.2; e4.. lr == min_lr -> no more reductions
        Assert.Equal(new[] { 1.0, 0.5, 0.25, 0.2, 0.2, 0.2, 0.2, 0.2 }, lrs.Select(x => Math.Round(x, 10)));
    }

    [Fact]
    public void ReduceLROnPlateau_with_cooldown_2_skips_counting_during_cooldown()
    {
        var rl = new ReduceLROnPlateau(factor: 0.1, patience: 2, cooldown: 2);
        var (trainer, _, opt) = Attached(lr: 1.0, callbacks: rl);
        using var _ = opt;
        rl.OnTrainBegin();
        var lrs = new List<double>();
        double[] losses = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.6];
        for (int e = 0; e < losses.Length; e++)
        {
            rl.OnEpochEnd(e, Logs(("val_loss", losses[e])));
            lrs.Add(Math.Round(trainer.LearningRate, 12));
        }
        // e0 best; e1 w1; e2 w2 -> 0.1 (cd 2); e3 cd1; e4 cd0 (w0, then counting: w1); e5 w2 -> 0.01 (cd2);
        // e6 cd1; e7 cd0 -> w1; e8 improvement (0.5) -> w0; e9 w1
        Assert.Equal(new[] { 1.0, 1.0, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.01, 0.01 }, lrs);
    }

    [Fact]
    public void ModelCheckpoint_save_best_only_saves_exactly_on_improving_epochs()
    {
        var dir = Directory.CreateTempSubdirectory("sv-ckpt").FullName;
        var saved = new List<string>();
        var ckpt = new ModelCheckpoint(Path.Combine(dir, "best.bin"), (p, w) => { File.WriteAllText(p, "x"); saved.Add(p); },
            saveBestOnly: true);
        var (trainer, _, opt) = Attached(callbacks: ckpt);
        using var _ = opt;
        ckpt.OnTrainBegin();
        double[] losses = [1.0, 0.9, 0.95, 0.8, 0.8];
        var savedEpochs = new List<int>();
        for (int e = 0; e < losses.Length; e++)
        {
            int before = saved.Count;
            ckpt.OnEpochEnd(e, Logs(("val_loss", losses[e])));
            if (saved.Count > before) savedEpochs.Add(e);
        }
        Assert.Equal(new[] { 0, 1, 3 }, savedEpochs);
        Assert.Equal(0.8, ckpt.Best);
        // Written through the temporary file, then renamed
        Assert.All(saved, p => Assert.EndsWith(".tmp", p));
        Assert.True(File.Exists(Path.Combine(dir, "best.bin")));
        Assert.False(File.Exists(Path.Combine(dir, "best.bin.tmp")));
    }

    [Fact]
    public void ModelCheckpoint_auto_mode_maximises_accuracy_and_formats_epoch()
    {
        var dir = Directory.CreateTempSubdirectory("sv-ckpt").FullName;
        var names = new List<string>();
        var ckpt = new ModelCheckpoint(Path.Combine(dir, "w-{epoch:02d}-{val_accuracy:.2f}.bin"),
            (p, weightsOnly) => { Assert.True(weightsOnly); File.WriteAllText(p, "x"); },
            monitor: "val_accuracy", saveBestOnly: true, saveWeightsOnly: true);
        var (trainer, _, opt) = Attached(callbacks: ckpt);
        using var _ = opt;
        Assert.True(ckpt.Maximize);
        ckpt.OnTrainBegin();
        double[] acc = [0.5, 0.7, 0.6, 0.9];
        for (int e = 0; e < acc.Length; e++)
        {
            ckpt.OnEpochEnd(e, Logs(("val_accuracy", acc[e])));
            if (ckpt.LastSavedEpoch == e) names.Add(Path.GetFileName(ckpt.LastSavedPath!));
        }
        Assert.Equal(new[] { "w-01-0.50.bin", "w-02-0.70.bin", "w-04-0.90.bin" }, names);
    }

    [Fact]
    public void ModelCheckpoint_resumed_best_is_kept_through_train_begin()
    {
        var dir = Directory.CreateTempSubdirectory("sv-ckpt").FullName;
        int saves = 0;
        var ckpt = new ModelCheckpoint(Path.Combine(dir, "best.bin"), (p, _) => { File.WriteAllText(p, "x"); saves++; }, saveBestOnly: true);
        var (trainer, _, opt) = Attached(callbacks: ckpt);
        using var _ = opt;
        ckpt.Best = 0.5;          // restored from the previous run
        ckpt.OnTrainBegin();
        ckpt.OnEpochEnd(3, Logs(("val_loss", 0.6)));
        Assert.Equal(0, saves);
        ckpt.OnEpochEnd(4, Logs(("val_loss", 0.4)));
        Assert.Equal(1, saves);
    }

    [Fact]
    public void ModelCheckpoint_without_save_best_only_saves_every_epoch()
    {
        var dir = Directory.CreateTempSubdirectory("sv-ckpt").FullName;
        int saves = 0;
        var ckpt = new ModelCheckpoint(Path.Combine(dir, "last.bin"), (p, _) => { File.WriteAllText(p, "x"); saves++; });
        var (trainer, _, opt) = Attached(callbacks: ckpt);
        using var _ = opt;
        ckpt.OnTrainBegin();
        for (int e = 0; e < 3; e++)
            ckpt.OnEpochEnd(e, Logs(("val_loss", 1.0 + e)));
        Assert.Equal(3, saves);
    }
}
