using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Training;

/// <summary>
/// Layer-group (discriminative) learning rates, as fastai's <c>fine_tune</c> uses them: the groups run from the input
/// side to the head and their rates grow geometrically from <c>maxLr / spread</c> to <c>maxLr</c>
/// (fastai's <c>slice(maxLr / 100, maxLr)</c>). The optimizer's groups are ordered head first, so
/// <see cref="OptimizerFactory.GetLearningRate"/> (and the <c>lr</c> column) is the head's rate and schedules, which set
/// the first group's rate, scale the others with it (<see cref="OptimizerFactory.SetLearningRate"/>).
/// </summary>
public static class DiscriminativeRates
{
    /// <summary>
    /// Rates for <paramref name="groups"/> groups, head first: maxLr, ..., maxLr / spread for the group nearest the
    /// input (geometric). One group gets maxLr.
    /// </summary>
    public static double[] Rates(int groups, double maxLr, double spread = 100)
    {
        if (groups < 1) throw new ArgumentOutOfRangeException(nameof(groups), groups, "must be at least 1");
        if (groups == 1) return [maxLr];
        var rates = new double[groups];
        for (int g = 0; g < groups; g++)
            rates[g] = maxLr / Math.Pow(spread, g / (double)(groups - 1));
        return rates;
    }

    /// <summary>
    /// An optimizer with one parameter group per entry of <paramref name="groups"/> (head first), each with its own rate; other
    /// settings as <see cref="OptimizerFactory.Create"/> (which also validates them). The caller disposes it.
    /// </summary>
    public static optim.Optimizer Create(string name, IReadOnlyList<IReadOnlyList<Parameter>> groups, IReadOnlyList<double> rates,
        double momentum = 0, bool nesterov = false, double weightDecay = 0)
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(rates);
        if (groups.Count == 0 || groups.Count != rates.Count)
            throw new ArgumentException($"{groups.Count} groups but {rates.Count} rates", nameof(rates));
        // Validates the name and every value the same way a single-group optimizer would.
        OptimizerFactory.Create(name, [], rates[0], momentum, nesterov, weightDecay).Dispose();
        string key = name.Trim().ToLowerInvariant();
        return key switch
        {
            "sgd" => optim.SGD(groups.Select((g, i) => new SGD.ParamGroup(g, rates[i], momentum: momentum, weight_decay: weightDecay, nesterov: nesterov)), rates[0]),
            "adam" => optim.Adam(groups.Select((g, i) => new Adam.ParamGroup(g, rates[i], weight_decay: weightDecay)), rates[0]),
            "adamw" => optim.AdamW(groups.Select((g, i) => new AdamW.ParamGroup(g, rates[i], weight_decay: weightDecay)), rates[0]),
            _ => optim.RMSProp(groups.Select((g, i) => new RMSProp.ParamGroup(g, rates[i], momentum: momentum, weight_decay: weightDecay)), rates[0]),
        };
    }

    /// <summary>Multiplies every group's rate by <paramref name="factor"/> (schedules that scale all groups together).</summary>
    public static void Scale(optim.Optimizer optimizer, double factor)
    {
        foreach (var g in optimizer.ParamGroups) g.LearningRate *= factor;
    }

    /// <summary>Rate of each group, head first.</summary>
    public static double[] Get(optim.Optimizer optimizer) => optimizer.ParamGroups.Select(g => g.LearningRate).ToArray();
}
