using SharpVision.Data;
using SharpVision.Training;
using SharpVision.Training.Callbacks;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Tests.Training;

/// <summary>Tiny models, synthetic data and a trainer wired for driving callbacks by hand.</summary>
internal static class TestKit
{
    /// <summary>[B, 1, 2, 2] -> flatten -> linear -> [B, classes].</summary>
    public sealed class TinyNet : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Linear fc;

        public TinyNet(int classes) : base(nameof(TinyNet))
        {
            fc = nn.Linear(4, classes);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => fc.call(input.flatten(1));
    }

    /// <summary>
    /// Separable data: class c has pixel c (of 4) bright. Deterministic per seed. Returns fresh batches each call.
    /// </summary>
    public static List<Batch> Separable(int classes, int batches, int batchSize, int seed)
    {
        var g = new Random(seed);
        var list = new List<Batch>();
        for (int b = 0; b < batches; b++)
        {
            var x = new float[batchSize * 4];
            var y = new long[batchSize];
            for (int i = 0; i < batchSize; i++)
            {
                int c = g.Next(classes);
                y[i] = c;
                for (int p = 0; p < 4; p++)
                    x[i * 4 + p] = (float)(g.NextDouble() * 0.4 - 0.2);
                x[i * 4 + c] += 2f;
            }
            list.Add(new Batch(tensor(x, [batchSize, 1, 2, 2]), tensor(y), []));
        }
        return list;
    }

    /// <summary>A trainer with a tiny model and an SGD optimizer attached, callbacks attached to it.</summary>
    public static (Trainer trainer, TinyNet model, optim.Optimizer optimizer) Attached(double lr = 0.1, int epochs = 10, params Callback[] callbacks)
    {
        var trainer = new Trainer(new TrainOptions { Epochs = epochs, LearningRate = lr, Optimizer = "sgd" });
        var model = new TinyNet(3);
        var optimizer = OptimizerFactory.Create("sgd", model.parameters(), lr);
        trainer.Attach(model, optimizer);
        foreach (var cb in callbacks)
            cb.SetTrainer(trainer);
        return (trainer, model, optimizer);
    }

    public static Dictionary<string, double> Logs(params (string key, double value)[] items) =>
        items.ToDictionary(i => i.key, i => i.value);
}
