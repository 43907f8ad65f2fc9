using static TorchSharp.torch;

namespace SharpVision.Training;

/// <summary>
/// Settings of one <see cref="Trainer.Fit"/> run. Epochs are counted like Keras: the run goes through epoch
/// indices <see cref="InitialEpoch"/> .. <see cref="Epochs"/> - 1 (0-based in callbacks, 1-based in every file
/// and message).
/// </summary>
public sealed record TrainOptions
{
    /// <summary>Index of the last epoch + 1 (Keras <c>epochs</c>): a resumed run keeps the same value.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>0-based index of the first epoch to run (Keras <c>initial_epoch</c>), for resuming.</summary>
    public int InitialEpoch { get; init; }

    /// <summary>Optimizer name: one of <see cref="OptimizerFactory.Names"/>.</summary>
    public string Optimizer { get; init; } = "adam";

    /// <summary>Starting learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Momentum for sgd and rmsprop (Keras default 0).</summary>
    public double Momentum { get; init; }

    /// <summary>Nesterov momentum for sgd (needs <see cref="Momentum"/> &gt; 0).</summary>
    public bool Nesterov { get; init; }

    /// <summary>Weight decay: L2 added to the gradient for sgd/adam/rmsprop, decoupled for adamw.</summary>
    public double WeightDecay { get; init; }

    /// <summary>Label smoothing in [0, 1): categorical y*(1-s)+s/K, binary y*(1-s)+0.5*s (Keras).</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>
    /// Keras <c>class_weight</c>: one weight per class (2 for a binary model) multiplying each training sample's
    /// loss; the batch loss stays a mean over the batch size. Validation is not weighted.
    /// </summary>
    public float[]? ClassWeights { get; init; }

    /// <summary>When &gt; 1, logs <c>top{K}_accuracy</c> and <c>val_top{K}_accuracy</c> (multi-class models only).</summary>
    public int TopK { get; init; }

    /// <summary>
    /// The training steps' arithmetic: <see cref="Precision.Bf16"/> is <see cref="MixedPrecision"/> (CPU only, with
    /// AVX512-BF16 or AMX-BF16). Validation always runs in float32.
    /// </summary>
    public Precision Precision { get; init; }

    /// <summary>Device the model and every batch are moved to; null means CPU.</summary>
    public Device? Device { get; init; }

    /// <summary>Number of batches per epoch when known in advance (progress bar total); null = learnt after one epoch.</summary>
    public int? StepsPerEpoch { get; init; }

    /// <summary>
    /// What is trained (loss and metrics); null = classification from <see cref="LabelSmoothing"/>,
    /// <see cref="ClassWeights"/> and <see cref="TopK"/>.
    /// </summary>
    public ITrainingTask? Task { get; init; }
}
