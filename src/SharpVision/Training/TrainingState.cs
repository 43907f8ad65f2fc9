using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Training;

/// <summary>
/// Everything besides the weights that an interrupted run needs to continue exactly where it stopped: the epoch
/// counter, the callbacks' counters (best values, patience, cooldown), the learning rate, libtorch's random state
/// (dropout) and whether training had already ended. Stored in the last checkpoint with the optimizer state.
/// </summary>
public sealed record TrainingState
{
    public const string Entry = "training_state.json";
    public const string OptimizerEntry = "optimizer.bin";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    [JsonPropertyName("epochs_completed")] public int EpochsCompleted { get; init; }
    [JsonPropertyName("learning_rate")] public double LearningRate { get; init; }
    [JsonPropertyName("stop_training")] public bool StopTraining { get; init; }
    [JsonPropertyName("stop_reason")] public string? StopReason { get; init; }
    [JsonPropertyName("callbacks")] public Dictionary<string, Dictionary<string, double>> Callbacks { get; init; } = new();
    /// <summary>libtorch's CPU generator state (torch.random.get_rng_state) as base64.</summary>
    [JsonPropertyName("torch_rng_state")] public string? TorchRngState { get; init; }
    /// <summary>Training phase of the last completed epoch (1 = frozen backbone, 2 = fine-tuning) with --fine-tune; null otherwise.</summary>
    [JsonPropertyName("phase")] public int? Phase { get; init; }
    /// <summary>
    /// Set in a checkpoint written on cancellation (<c>interrupted.svmodel</c>): the training steps of epoch
    /// <see cref="EpochsCompleted"/> + 1 already in its weights. Null at an epoch boundary (<c>last.svmodel</c>).
    /// </summary>
    [JsonPropertyName("interrupted_at_step"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? InterruptedAtStep { get; init; }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    public static TrainingState FromJson(byte[] json, string origin)
    {
        try
        {
            return JsonSerializer.Deserialize<TrainingState>(json, Json) ?? throw new ModelFileException($"{origin}: empty {Entry}.");
        }
        catch (JsonException e)
        {
            throw new ModelFileException($"{origin}: {Entry} is not valid ({e.Message}).", e);
        }
    }

    /// <summary>
    /// The state of a trainer at the end of an epoch (or, after a cancellation, between two steps), with the named
    /// callbacks' counters.
    /// </summary>
    public static TrainingState Capture(Trainer trainer, IReadOnlyDictionary<string, Callbacks.Callback> callbacks)
    {
        using var rng = torch.random.get_rng_state();
        return new TrainingState
        {
            EpochsCompleted = trainer.EpochsCompleted,
            InterruptedAtStep = trainer.Interruption?.Steps,
            LearningRate = trainer.LearningRate,
            StopTraining = trainer.StopTraining,
            StopReason = trainer.StopReason,
            Callbacks = callbacks
                .Select(kv => (kv.Key, State: kv.Value.GetState()))
                .Where(x => x.State is not null)
                .ToDictionary(x => x.Key, x => x.State!.ToDictionary(e => e.Key, e => e.Value)),
            TorchRngState = Convert.ToBase64String(rng.data<byte>().ToArray()),
        };
    }

    /// <summary>Puts the random state back and hands each named callback its counters.</summary>
    public void Restore(IReadOnlyDictionary<string, Callbacks.Callback> callbacks)
    {
        foreach (var (name, callback) in callbacks)
            if (Callbacks.TryGetValue(name, out var state))
                callback.SetState(state);
        if (TorchRngState is not null)
        {
            using var rng = torch.tensor(Convert.FromBase64String(TorchRngState), ScalarType.Byte);
            torch.random.set_rng_state(rng);
        }
    }

    public static byte[] SaveOptimizer(optim.Optimizer optimizer)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
            ((OptimizerHelper)optimizer).save_state_dict(writer);
        return buffer.ToArray();
    }

    public static void LoadOptimizer(optim.Optimizer optimizer, byte[] state)
    {
        using var reader = new BinaryReader(new MemoryStream(state));
        ((OptimizerHelper)optimizer).load_state_dict(reader);
    }
}
