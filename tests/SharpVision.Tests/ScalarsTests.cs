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

    [Fact]
    public void No_collection_happens_inside_a_scope_while_another_thread_allocates_like_a_loader()
    {
        // Given Adam on a small parameter, and a thread allocating 1 MB every 2 ms (an image loader's pace)
        var w = TorchSharp.torch.nn.Parameter(ones(8, 8));
        using var adam = TorchSharp.torch.optim.Adam([w], 1e-3);
        bool stop = false;
        var loader = new Thread(() =>
        {
            while (!Volatile.Read(ref stop)) { GC.KeepAlive(new byte[1 << 20]); Thread.Sleep(2); }
        }) { IsBackground = true };
        loader.Start();
        int collectionsInside = 0, collectionsOutside = 0;
        try
        {
            // When 300 optimizer steps of about 10 ms each run inside a NoCollectionScope
            for (int i = 0; i < 300; i++)
            {
                int before = GC.CollectionCount(0);
                using (NoCollectionScope.Enter())
                {
                    int entered = GC.CollectionCount(0);
                    collectionsOutside += entered - before;   // entering collects once
                    using var scope = NewDisposeScope();
                    for (int k = 0; k < 20; k++)
                    {
                        adam.zero_grad();
                        (w * w).sum().backward();
                        adam.step();
                    }
                    Thread.Sleep(5);
                    collectionsInside += GC.CollectionCount(0) - entered;
                }
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            loader.Join();
        }

        // Then no collection ran inside any step (so no finalizer could free a Scalar TorchSharp was still reading),
        // while collections did happen between steps
        Assert.Equal(0, collectionsInside);
        Assert.True(collectionsOutside >= 300, $"{collectionsOutside} collections on entry");
    }
}
