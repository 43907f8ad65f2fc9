using static TorchSharp.torch;

namespace SharpVision.Tests;

public class ScalarsTests
{
    [Fact]
    public void The_same_value_gives_the_same_cached_scalar()
    {
        // Given a tensor, when two operations ask for the Scalar of 2.0
        using var t = ones(2);
        var first = Scalars.Of(2.0);
        using var half = t.div(first);

        // Then both get one instance, and it still computes after use (the cache does not dispose it)
        Assert.Same(first, Scalars.Of(2.0));
        using var again = t.div(Scalars.Of(2.0));
        Assert.Equal(0.5f, again[0].item<float>());
        Assert.Equal(0.5f, half[1].item<float>());
    }
}
