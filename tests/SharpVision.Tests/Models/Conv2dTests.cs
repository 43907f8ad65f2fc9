using SharpVision.Models;
using SharpVision.Platform;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpVision.Tests.Models;

public class Conv2dTests
{
    private static readonly ConvolutionRouting Both = new(true, true, "test");

    [Theory]
    [InlineData(16, 32, 1, 2, 0, 9)]    // strided 1x1, odd size: ceil(9/2) = 5 outputs per side
    [InlineData(16, 32, 1, 2, 0, 8)]
    [InlineData(8, 8, 1, 3, 0, 10)]
    [InlineData(8, 4, 3, 1, 1, 12)]     // narrow kxk: 4 outputs padded to 16
    [InlineData(32, 24, 3, 2, 1, 11)]
    [InlineData(5, 3, 5, 1, 2, 9)]
    public void Routed_convolution_gives_the_same_output_and_gradients_as_the_plain_one(int inC, int outC, int k, int stride, int pad, int size)
    {
        // Given float64 tensors (libtorch's direct path, not oneDNN, so both sides are exact arithmetic of the same sums)
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        var x = randn([2, inC, size, size], float64, generator: g);
        var w = randn([outC, inC, k, k], float64, generator: g);
        var b = randn([outC], float64, generator: g);

        // When computed plainly and with both workarounds
        var plain = Grads(x, w, b, (xi, wi, bi) => F.conv2d(xi, wi, bi, [stride, stride], [pad, pad]));
        var routed = Grads(x, w, b, (xi, wi, bi) => Conv2d.Apply(xi, wi, bi, stride, pad, 1, Both));

        // Then output, input, weight and bias gradients agree to rounding
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(plain[i].shape, routed[i].shape);
            Assert.True(plain[i].allclose(routed[i], rtol: 1e-12, atol: 1e-12), $"tensor {i} differs");
        }
    }

    private static Tensor[] Grads(Tensor x, Tensor w, Tensor b, Func<Tensor, Tensor, Tensor, Tensor> conv)
    {
        var xi = x.detach().requires_grad_(true);
        var wi = w.detach().requires_grad_(true);
        var bi = b.detach().requires_grad_(true);
        var y = conv(xi, wi, bi);
        using var g = new Generator(7);
        (y * randn(y.shape, float64, generator: g)).sum().backward();
        return [y.detach(), xi.grad!, wi.grad!, bi.grad!];
    }

    [Fact]
    public void Module_has_torch_names_and_routes_its_forward()
    {
        // Given our Conv2d; Then its state_dict keys are torchvision's and its output has the usual shape.
        using var conv = new Conv2d(3, 8, 3, stride: 2, padding: 1, bias: true);
        Assert.Equal(["weight", "bias"], conv.state_dict().Keys.ToArray());
        using var y = conv.call(zeros(1, 3, 9, 9));
        Assert.Equal([1L, 8, 5, 5], y.shape);
    }

    [Fact]
    public void Narrow_padding_is_skipped_when_no_input_gradient_is_needed()
    {
        // The padded path must not run at inference: the output of an input without requires_grad is contiguous.
        using var scope = NewDisposeScope();
        var y = Conv2d.Apply(ones(2, 4, 6, 6), ones(4, 4, 3, 3), null, 1, 1, 1, Both);
        Assert.True(y.is_contiguous());
        var x = ones(2, 4, 6, 6).requires_grad_(true);
        var padded = Conv2d.Apply(x, ones(4, 4, 3, 3), null, 1, 1, 1, Both);
        Assert.False(padded.is_contiguous());   // a 4-channel view of a 16-channel output
        Assert.True(y.allclose(padded.detach()));
    }
}
