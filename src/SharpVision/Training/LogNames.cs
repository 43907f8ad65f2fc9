namespace SharpVision.Training;

/// <summary>The names used in every logs dictionary, CSV header and history (Keras names).</summary>
public static class LogNames
{
    public const string Loss = "loss";
    public const string Accuracy = "accuracy";
    public const string ValLoss = "val_loss";
    public const string ValAccuracy = "val_accuracy";
    public const string LearningRate = "lr";
    public const string Seconds = "seconds";
    /// <summary>Unreadable images skipped during the epoch (training and validation).</summary>
    public const string Skipped = "skipped";
    /// <summary>Batch logs only: images seen so far in the epoch.</summary>
    public const string Images = "images";
    /// <summary>Prefix of validation metrics.</summary>
    public const string ValPrefix = "val_";

    /// <summary><c>top5_accuracy</c> for k = 5.</summary>
    public static string TopKAccuracy(int k) => $"top{k}_accuracy";
}
