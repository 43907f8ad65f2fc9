using SharpVision.Training;
using SharpVision.Training.Callbacks;
using static SharpVision.Tests.Training.TestKit;

namespace SharpVision.Tests.Training;

public class OptimizerAndScheduleTests
{
    [Fact]
    public void Unknown_optimizer_name_lists_the_allowed_ones()
    {
        var model = new TinyNet(2);
        var e = Assert.Throws<InvalidOptionException>(() => OptimizerFactory.Create("adagrad", model.parameters(), 0.1));
        Assert.Equal("TrainOptions.Optimizer must be one of sgd, adam, adamw, rmsprop. Received: TrainOptions.Optimizer=adagrad", e.Message);
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adam")]
    [InlineData("AdamW")]
    [InlineData("rmsprop")]
    public void Every_optimizer_reads_and_sets_its_learning_rate(string name)
    {
        var model = new TinyNet(2);
        using var opt = OptimizerFactory.Create(name, model.parameters(), 0.01, momentum: 0.9, weightDecay: 1e-4);
        Assert.Equal(0.01, OptimizerFactory.GetLearningRate(opt), 12);
        OptimizerFactory.SetLearningRate(opt, 0.5);
        Assert.Equal(0.5, OptimizerFactory.GetLearningRate(opt), 12);
        Assert.Equal(0.9, OptimizerFactory.GetMomentum(opt)!.Value, 12);
    }

    [Fact]
    public void Step_schedule_multiplies_by_gamma_every_step_size_epochs()
    {
        var schedule = new StepLR(stepSize: 2, gamma: 0.5);
        var (trainer, _, opt) = Attached(lr: 1.0, callbacks: schedule);
        using var _ = opt;
        schedule.OnTrainBegin();
        var lrs = Enumerable.Range(0, 6).Select(e => { schedule.OnEpochBegin(e); return trainer.LearningRate; }).ToArray();
        Assert.Equal(new[] { 1.0, 1.0, 0.5, 0.5, 0.25, 0.25 }, lrs);
    }

    [Fact]
    public void Cosine_schedule_falls_from_base_to_min_over_the_epochs()
    {
        var schedule = new CosineLR(minLr: 0.0);
        var (trainer, _, opt) = Attached(lr: 1.0, epochs: 4, callbacks: schedule);
        using var _ = opt;
        schedule.OnTrainBegin();
        var lrs = Enumerable.Range(0, 4).Select(e => { schedule.OnEpochBegin(e); return trainer.LearningRate; }).ToArray();
        Assert.Equal(1.0, lrs[0], 9);
        Assert.Equal((1 + Math.Cos(Math.PI / 4)) / 2, lrs[1], 9);   // 0.853553
        Assert.Equal(0.5, lrs[2], 9);
        Assert.Equal((1 + Math.Cos(3 * Math.PI / 4)) / 2, lrs[3], 9); // 0.146447
    }

    [Fact]
    public void One_cycle_follows_pytorch_warmup_and_annealing_per_step()
    {
        // Given max lr 1 over 1 epoch of 10 steps (PyTorch defaults: pct 0.3, div 25, final div 1e4)
        var schedule = new OneCycleLR(maxLr: 1.0, stepsPerEpoch: 10, epochs: 1);
        var (trainer, _, opt) = Attached(lr: 0.1, callbacks: schedule);
        using var _ = opt;
        schedule.OnTrainBegin();
        schedule.OnEpochBegin(0);
        var lrs = Enumerable.Range(0, 10).Select(s => { schedule.OnBatchBegin(s); return trainer.LearningRate; }).ToArray();
        // Warm-up ends at step 0.3*10-1 = 2: 0.04 -> 0.52 -> 1.0; then cosine down to 0.04/1e4 at step 9
        Assert.Equal(0.04, lrs[0], 9);
        Assert.Equal(0.52, lrs[1], 9);
        Assert.Equal(1.0, lrs[2], 9);
        double pct = (5 - 2) / 7.0;
        Assert.Equal(4e-6 + (1 - 4e-6) / 2 * (1 + Math.Cos(Math.PI * pct)), lrs[5], 9);
        Assert.Equal(4e-6, lrs[9], 12);
        Assert.Equal(0.95, schedule.MomentumAt(0), 9);
        Assert.Equal(0.85, schedule.MomentumAt(2), 9);
    }

    [Fact]
    public void One_cycle_of_a_later_stage_starts_its_own_warmup_at_its_first_epoch()
    {
        // Given a cycle over epochs 2..3 of 5 steps each (a fine-tune run's second stage), max lr 1
        var schedule = new OneCycleLR(maxLr: 1.0, stepsPerEpoch: 5, epochs: 2, firstEpoch: 2);
        var (trainer, _, opt) = Attached(lr: 0.1, epochs: 4, callbacks: schedule);
        using var _ = opt;
        schedule.OnTrainBegin();

        // When the stage's epochs run
        double At(int epoch, int step)
        {
            schedule.OnEpochBegin(epoch);
            schedule.OnBatchBegin(step);
            return trainer.LearningRate;
        }

        // Then its first step is the start of a 10-step cycle (maxLr/25), its peak is step 2 of it, its end maxLr/25/1e4
        Assert.Equal(10, schedule.TotalSteps);
        Assert.Equal(0.04, At(2, 0), 9);
        Assert.Equal(1.0, At(2, 2), 9);
        Assert.Equal(4e-6, At(3, 4), 12);
    }
}
