using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Training;

/// <summary>Builds an optimizer from its name, and reads/sets learning rate and momentum on any optimizer.</summary>
public static class OptimizerFactory
{
    /// <summary>Accepted names, in the order shown in messages.</summary>
    public static readonly IReadOnlyList<string> Names = ["sgd", "adam", "adamw", "rmsprop"];

    /// <summary>
    /// Creates the optimizer. The caller owns it and must dispose it.
    /// </summary>
    /// <param name="name">sgd, adam, adamw or rmsprop (case-insensitive).</param>
    /// <param name="parameters">Trainable parameters (frozen ones left out).</param>
    /// <param name="learningRate">Starting learning rate (&gt; 0).</param>
    /// <param name="momentum">sgd and rmsprop momentum (ignored by adam/adamw, which use beta1 = 0.9).</param>
    /// <param name="nesterov">Nesterov momentum for sgd.</param>
    /// <param name="weightDecay">L2 penalty (sgd, adam, rmsprop) or decoupled decay (adamw).</param>
    /// <exception cref="InvalidOptionException">Unknown name or out-of-range value.</exception>
    public static optim.Optimizer Create(string name, IEnumerable<Parameter> parameters, double learningRate,
        double momentum = 0, bool nesterov = false, double weightDecay = 0)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        string key = (name ?? "").Trim().ToLowerInvariant();
        if (!Names.Contains(key))
            throw new InvalidOptionException("TrainOptions.Optimizer", "one of " + string.Join(", ", Names), name ?? "");
        if (!(learningRate > 0) || double.IsInfinity(learningRate))
            throw new InvalidOptionException("TrainOptions.LearningRate", "a number > 0", Format(learningRate));
        if (momentum < 0 || momentum >= 1 || double.IsNaN(momentum))
            throw new InvalidOptionException("TrainOptions.Momentum", "a number in [0, 1)", Format(momentum));
        if (weightDecay < 0 || double.IsNaN(weightDecay))
            throw new InvalidOptionException("TrainOptions.WeightDecay", "a number >= 0", Format(weightDecay));
        if (nesterov && (key != "sgd" || momentum <= 0))
            throw new InvalidOptionException("TrainOptions.Nesterov", "used with TrainOptions.Optimizer=sgd and TrainOptions.Momentum > 0",
                $"true (optimizer {key}, momentum {Format(momentum)})");

        var list = parameters.ToList();
        return key switch
        {
            "sgd" => optim.SGD(list, learningRate, momentum: momentum, weight_decay: weightDecay, nesterov: nesterov),
            "adam" => optim.Adam(list, learningRate, weight_decay: weightDecay),
            "adamw" => optim.AdamW(list, learningRate, weight_decay: weightDecay),
            _ => optim.RMSProp(list, learningRate, momentum: momentum, weight_decay: weightDecay),
        };
    }

    /// <summary>The learning rate of the first parameter group.</summary>
    public static double GetLearningRate(optim.Optimizer optimizer) =>
        optimizer.ParamGroups.First().LearningRate;

    /// <summary>
    /// Sets the learning rate of the first parameter group to <paramref name="learningRate"/> and scales the other
    /// groups by the same factor, so layer-group (discriminative) rates keep their ratios under schedules; with one
    /// group, or when the first group's rate is 0, every group gets <paramref name="learningRate"/>.
    /// </summary>
    public static void SetLearningRate(optim.Optimizer optimizer, double learningRate)
    {
        double first = optimizer.ParamGroups.First().LearningRate;
        bool keepRatios = first > 0 && double.IsFinite(first);
        foreach (var group in optimizer.ParamGroups)
            group.LearningRate = keepRatios ? group.LearningRate / first * learningRate : learningRate;
    }

    /// <summary>
    /// Momentum of the first group: sgd/rmsprop momentum, adam/adamw beta1; null for other optimizers.
    /// </summary>
    public static double? GetMomentum(optim.Optimizer optimizer) => optimizer.ParamGroups.First() switch
    {
        SGD.ParamGroup g => g.Momentum,
        RMSProp.ParamGroup g => g.Momentum,
        Adam.ParamGroup g => g.Betas.Item1,
        AdamW.ParamGroup g => g.Betas.Item1,
        _ => null,
    };

    /// <summary>Sets sgd/rmsprop momentum or adam/adamw beta1 on every group (what one-cycle momentum cycling changes).</summary>
    public static void SetMomentum(optim.Optimizer optimizer, double momentum)
    {
        foreach (var group in optimizer.ParamGroups)
        {
            switch (group)
            {
                case SGD.ParamGroup g: g.Momentum = momentum; break;
                case RMSProp.ParamGroup g: g.Momentum = momentum; break;
                case Adam.ParamGroup g: g.Betas = (momentum, g.Betas.Item2); break;
                case AdamW.ParamGroup g: g.Betas = (momentum, g.Betas.Item2); break;
            }
        }
    }

    private static string Format(double v) => v.ToString(CultureInfo.InvariantCulture);
}
