using System.Runtime.InteropServices;

namespace SharpVision.Training;

/// <summary>
/// Survives the TorchSharp 0.107 failure that <see cref="NoCollectionScope"/> makes rare but cannot rule out: a
/// temporary Scalar freed by the finalizer thread while libtorch reads it, reported by c10 as "Expected false to be
/// true" (from <c>Scalar::toDouble</c>). It is a race, not a property of the batch, so the step is simply run
/// again; an error that repeats is real and is thrown.
/// </summary>
public static class ScalarRace
{
    /// <summary>Attempts of a retried computation before the error is taken as real.</summary>
    public const int Attempts = 3;

    /// <summary>Optimizer-step failures tolerated per epoch before the error is taken as real.</summary>
    public const int StepFailuresPerEpoch = 3;

    /// <summary>Whether <paramref name="e"/> is c10's report of a freed Scalar.</summary>
    public static bool Matches(Exception e) =>
        e is ExternalException && e.Message.StartsWith("Expected false to be true", StringComparison.Ordinal);

    /// <summary>Runs <paramref name="body"/>, running it again (up to <see cref="Attempts"/> times in all) when it fails with the race.</summary>
    public static T Retry<T>(Func<T> body, string where, Action<string> warn)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return body();
            }
            catch (Exception e) when (Matches(e) && attempt < Attempts)
            {
                warn($"{where}: libtorch read a freed TorchSharp Scalar (a known TorchSharp 0.107 race); running it again.");
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> once; when it fails with the race, warns, counts the failure in
    /// <paramref name="failures"/> and returns false (up to <see cref="StepFailuresPerEpoch"/> times, then throws).
    /// </summary>
    public static bool TryOnce(Action body, string where, Action<string> warn, ref int failures)
    {
        try
        {
            body();
            return true;
        }
        catch (Exception e) when (Matches(e) && failures < StepFailuresPerEpoch)
        {
            failures++;
            warn($"{where} (libtorch read a freed TorchSharp Scalar, a known TorchSharp 0.107 race).");
            return false;
        }
    }
}
