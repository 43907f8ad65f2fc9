using SharpVision.Models;
using SharpVision.Training;
using SharpVision.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Tests.Training;

/// <summary>Tests that depend on libtorch's process-wide random generator run alone, not beside other tests.</summary>
[CollectionDefinition("Global torch RNG", DisableParallelization = true)]
public sealed class GlobalTorchRngCollection;

[Collection("Global torch RNG")]
public class ResumeStateTests
{
    private static void Steps(nn.Module<Tensor, Tensor> model, optim.Optimizer opt, int seed, int n)
    {
        model.train();
        for (int i = 0; i < n; i++)
        {
            using var scope = NewDisposeScope();
            var g = new Generator((ulong)(seed + i));
            var x = randn([8, 3, 16, 16], generator: g);
            var y = randint(0, 3, [8], generator: g);
            opt.zero_grad();
            var loss = nn.functional.cross_entropy(model.call(x), y);
            loss.backward();
            opt.step();
        }
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("sgd")]
    [InlineData("adamw")]
    [InlineData("rmsprop")]
    public void Weights_optimizer_and_random_state_continue_training_bit_identically(string optimizer)
    {
        // Given a network with dropout trained a few steps
        torch.manual_seed(5);
        var model = ModelRegistry.Create("minicnn", new ModelOptions(3, 16));
        using var opt = OptimizerFactory.Create(optimizer, model.parameters(), 0.01, momentum: 0.9);
        Steps(model, opt, 100, 3);
        var weights = StateDicts.CloneToCpu(model);
        var optState = TrainingState.SaveOptimizer(opt);
        using var rng = torch.random.get_rng_state();
        var rngBytes = rng.data<byte>().ToArray();

        // When the original continues, and a rebuilt copy restores weights, optimizer and random state and continues
        Steps(model, opt, 200, 3);
        torch.manual_seed(99);
        var copy = ModelRegistry.Create("minicnn", new ModelOptions(3, 16));
        StateDicts.LoadStrict(copy, weights, "test");
        using var copyOpt = OptimizerFactory.Create(optimizer, copy.parameters(), 0.01, momentum: 0.9);
        TrainingState.LoadOptimizer(copyOpt, optState);
        using (var r = torch.tensor(rngBytes, ScalarType.Byte)) torch.random.set_rng_state(r);
        Steps(copy, copyOpt, 200, 3);

        // Then both end with bit-identical weights
        foreach (var (key, t) in model.state_dict())
            Assert.True(t.eq(copy.state_dict()[key]).all().item<bool>(), $"{optimizer}: {key} differs");
    }
}
