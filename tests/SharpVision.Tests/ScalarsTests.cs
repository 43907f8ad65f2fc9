using SharpVision.Tests.TestSupport;
using static TorchSharp.torch;

namespace SharpVision.Tests;

// A thread forcing collections would slow every test running beside it: these run alone.
[Collection("Global torch RNG")]
public class ScalarsTests
{
    [Fact]
    public void Cached_scalars_survive_collections_during_native_calls()
    {
        // Given a tensor and a thread collecting garbage without pause
        using var t = ones(4, 4);

        // When tensor-with-number operations use Scalars.Of 100,000 times
        var (n, failures) = GcHammer.Run(() =>
        {
            using var a = t.div(Scalars.Of(2.0));
            using var b = a.clamp_min(Scalars.Of(0.75));
            if (b[0, 0].item<float>() != 0.75f) throw new InvalidOperationException($"value {b[0, 0].item<float>()}");
        }, 100_000);

        // Then none fails, and the values are right (an implicit `t / 2.0` failed 28 times in 200,000 here)
        Assert.True(failures.Count == 0, $"{failures.Count} of {n} failed: {failures.FirstOrDefault()}");
        Assert.True(n >= 1000, $"only {n} iterations");
        Assert.Same(Scalars.Of(2.0), Scalars.Of(2.0));
    }
}
