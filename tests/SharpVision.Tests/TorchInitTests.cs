using TorchSharp;

namespace SharpVision.Tests;

public class TorchInitTests
{
    [Fact]
    public void Torch_initialises_and_computes_on_cpu()
    {
        // Given two small tensors; When added on libtorch; Then the values are right (the native library loaded).
        using var a = torch.tensor(new float[] { 1, 2, 3 });
        using var b = torch.ones(3);
        using var c = a + b;
        Assert.Equal(new float[] { 2, 3, 4 }, c.data<float>().ToArray());
    }
}
