namespace SharpVision.Training.Callbacks;

/// <summary>
/// Base of per-epoch schedules: sets lr = f(epoch) at the start of each epoch from the base learning rate
/// (the optimizer's rate when training begins, unless given). Being a function of the epoch index, a resumed run
/// (initial epoch &gt; 0) lands on the same rate.
/// </summary>
public abstract class EpochSchedule(double? baseLr) : Callback
{
    /// <summary>Rate at epoch 0.</summary>
    public double BaseLr { get; private set; } = baseLr ?? double.NaN;

    /// <summary>Learning rate for 0-based epoch index <paramref name="epoch"/>.</summary>
    public abstract double At(int epoch);

    /// <inheritdoc />
    public override void OnTrainBegin() => BaseLr = baseLr ?? Trainer.LearningRate;

    /// <inheritdoc />
    public override void OnEpochBegin(int epoch) => Trainer.LearningRate = At(epoch);
}

/// <summary>PyTorch <c>StepLR</c>: lr = base * gamma^floor(epoch / stepSize).</summary>
public sealed class StepLR : EpochSchedule
{
    private readonly int _stepSize;
    private readonly double _gamma;

    /// <param name="stepSize">Epochs between two decays (&gt;= 1).</param>
    /// <param name="gamma">Decay factor.</param>
    /// <param name="baseLr">Rate at epoch 0; null = the optimizer's at train begin.</param>
    public StepLR(int stepSize, double gamma = 0.1, double? baseLr = null) : base(baseLr)
    {
        if (stepSize < 1)
            throw new InvalidOptionException("StepLR.StepSize", "an integer >= 1", stepSize.ToString());
        _stepSize = stepSize;
        _gamma = gamma;
    }

    /// <inheritdoc />
    public override double At(int epoch) => BaseLr * Math.Pow(_gamma, epoch / _stepSize);
}

/// <summary>
/// PyTorch <c>CosineAnnealingLR</c> over the run: lr = min + (base - min) * (1 + cos(pi * epoch / T)) / 2 with
/// T = total epochs, so epoch 0 uses the base rate and the rate falls towards <c>minLr</c>.
/// </summary>
public sealed class CosineLR : EpochSchedule
{
    private readonly int? _epochs;
    private readonly double _minLr;
    private int _t;

    /// <param name="epochs">T; null = the trainer's <see cref="TrainOptions.Epochs"/>.</param>
    /// <param name="minLr">Rate reached at epoch T.</param>
    /// <param name="baseLr">Rate at epoch 0; null = the optimizer's at train begin.</param>
    public CosineLR(int? epochs = null, double minLr = 0, double? baseLr = null) : base(baseLr)
    {
        if (epochs is < 1)
            throw new InvalidOptionException("CosineLR.Epochs", "an integer >= 1", epochs.Value.ToString());
        _epochs = epochs;
        _minLr = minLr;
        _t = epochs ?? 0;
    }

    /// <inheritdoc />
    public override void OnTrainBegin()
    {
        base.OnTrainBegin();
        _t = _epochs ?? Trainer.Options.Epochs;
    }

    /// <inheritdoc />
    public override double At(int epoch) =>
        _minLr + (BaseLr - _minLr) * (1 + Math.Cos(Math.PI * Math.Min(epoch, _t) / _t)) / 2;
}

/// <summary>
/// PyTorch <c>OneCycleLR</c> with its defaults, stepped per batch: the rate warms from maxLr/divFactor to
/// <c>maxLr</c> over the first <c>pctStart</c> of the steps, then anneals (cosine) to
/// maxLr/(divFactor*finalDivFactor). The cycle covers <c>epochs</c> epochs from <c>firstEpoch</c> (a later stage of a
/// run has a cycle of its own, as fastai's <c>fine_tune</c> gives each of its two <c>fit_one_cycle</c> calls). With
/// <c>cycleMomentum</c>, momentum (sgd/rmsprop) or beta1 (adam/adamw) moves the opposite way between
/// <c>maxMomentum</c> and <c>baseMomentum</c>; sgd/rmsprop without momentum are left alone.
/// </summary>
public sealed class OneCycleLR : Callback
{
    private readonly double _maxLr;
    private readonly int _stepsPerEpoch;
    private readonly int? _epochs;
    private readonly int _firstEpoch;
    private readonly double _pctStart;
    private readonly double _divFactor;
    private readonly double _finalDivFactor;
    private readonly bool _cycleMomentum;
    private readonly double _baseMomentum;
    private readonly double _maxMomentum;
    private int _epoch;
    private bool _momentumApplies;

    /// <param name="maxLr">Peak rate.</param>
    /// <param name="stepsPerEpoch">Batches per epoch (ceil(samples / batch size)).</param>
    /// <param name="epochs">Epochs of the cycle; null = the trainer's <see cref="TrainOptions.Epochs"/> - <paramref name="firstEpoch"/>.</param>
    /// <param name="pctStart">Share of steps spent increasing the rate.</param>
    /// <param name="divFactor">Initial rate = maxLr / divFactor.</param>
    /// <param name="finalDivFactor">Final rate = initial rate / finalDivFactor.</param>
    /// <param name="cycleMomentum">Cycle momentum inversely to the rate.</param>
    /// <param name="baseMomentum">Momentum at the peak rate.</param>
    /// <param name="maxMomentum">Momentum at the start and end.</param>
    /// <param name="firstEpoch">0-based epoch index at which the cycle starts.</param>
    public OneCycleLR(double maxLr, int stepsPerEpoch, int? epochs = null, double pctStart = 0.3, double divFactor = 25,
        double finalDivFactor = 1e4, bool cycleMomentum = true, double baseMomentum = 0.85, double maxMomentum = 0.95, int firstEpoch = 0)
    {
        if (!(maxLr > 0))
            throw new InvalidOptionException("OneCycleLR.MaxLr", "a number > 0", maxLr.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (stepsPerEpoch < 1)
            throw new ArgumentOutOfRangeException(nameof(stepsPerEpoch), stepsPerEpoch, "At least one step per epoch.");
        if (pctStart is <= 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(pctStart), pctStart, "pctStart must be in (0, 1).");
        if (firstEpoch < 0)
            throw new ArgumentOutOfRangeException(nameof(firstEpoch), firstEpoch, "firstEpoch must be >= 0.");
        _maxLr = maxLr;
        _firstEpoch = firstEpoch;
        _stepsPerEpoch = stepsPerEpoch;
        _epochs = epochs;
        _pctStart = pctStart;
        _divFactor = divFactor;
        _finalDivFactor = finalDivFactor;
        _cycleMomentum = cycleMomentum;
        _baseMomentum = baseMomentum;
        _maxMomentum = maxMomentum;
        TotalSteps = (epochs ?? 0) * stepsPerEpoch;
    }

    /// <summary>Steps of the whole cycle.</summary>
    public int TotalSteps { get; private set; }

    /// <summary>Learning rate at 0-based global step <paramref name="step"/> (clamped to the last step).</summary>
    public double LearningRateAt(int step) => Phase(step, _maxLr / _divFactor, _maxLr, _maxLr / _divFactor / _finalDivFactor);

    /// <summary>Momentum at 0-based global step <paramref name="step"/>.</summary>
    public double MomentumAt(int step) => Phase(step, _maxMomentum, _baseMomentum, _maxMomentum);

    /// <inheritdoc />
    public override void OnTrainBegin()
    {
        TotalSteps = (_epochs ?? Trainer.Options.Epochs - _firstEpoch) * _stepsPerEpoch;
        double? momentum = OptimizerFactory.GetMomentum(Trainer.Optimizer);
        _momentumApplies = _cycleMomentum && momentum is > 0;
        _epoch = 0;
    }

    /// <inheritdoc />
    public override void OnEpochBegin(int epoch) => _epoch = epoch;

    /// <inheritdoc />
    public override void OnBatchBegin(int step)
    {
        int global = (_epoch - _firstEpoch) * _stepsPerEpoch + step;
        Trainer.LearningRate = LearningRateAt(global);
        if (_momentumApplies)
            OptimizerFactory.SetMomentum(Trainer.Optimizer, MomentumAt(global));
    }

    // Two phases like PyTorch (three_phase=False): [0, pct*T - 1] start->peak, then peak->end at T - 1.
    private double Phase(int step, double start, double peak, double end)
    {
        int total = Math.Max(TotalSteps, 1);
        double s = Math.Clamp(step, 0, total - 1);
        double warmEnd = _pctStart * total - 1;
        double lastStep = total - 1;
        if (s <= warmEnd)
            return Cosine(start, peak, warmEnd <= 0 ? 1 : s / warmEnd);
        return Cosine(peak, end, lastStep - warmEnd <= 0 ? 1 : (s - warmEnd) / (lastStep - warmEnd));
    }

    private static double Cosine(double from, double to, double pct) =>
        to + (from - to) / 2 * (1 + Math.Cos(Math.PI * pct));
}
