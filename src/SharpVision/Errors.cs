namespace SharpVision;

/// <summary>Base of every error SharpVision reports to a user: the message is one clear line.</summary>
public class SharpVisionException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A setting with a value outside what is allowed, worded like Keras:
/// <c>--layout must be one of folders, filenames, csv. Received: --layout=folder</c>.
/// </summary>
public sealed class InvalidOptionException(string option, string expected, string received)
    : SharpVisionException($"{option} must be {expected}. Received: {option}={received}")
{
    public string Option { get; } = option;
}

/// <summary>An image file that cannot be used; the run goes on without it.</summary>
public sealed class ImageDecodeException(string path, string reason)
    : SharpVisionException($"{path}: {reason}")
{
    public string Path { get; } = path;
    public string Reason { get; } = reason;
}

/// <summary>A dataset that cannot be trained on (missing, empty, one class, ...).</summary>
public sealed class DatasetException(string message) : SharpVisionException(message);

/// <summary>A model or weights file that cannot be loaded (corrupt, mismatched, unknown architecture).</summary>
public sealed class ModelFileException(string message, Exception? inner = null) : SharpVisionException(message, inner);
