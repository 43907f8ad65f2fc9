using System.Diagnostics;
using System.Reflection;
using System.Runtime.CompilerServices;
using SharpVision.Tests.TestSupport;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SharpVision.Tests;

// A thread forcing collections would slow every test running beside it: these run alone.
[Collection("Global torch RNG")]
public class TorchSharpKeepAliveTests(ITestOutputHelper output)
{
    [Fact]
    public void The_loaded_TorchSharp_is_the_rewritten_copy()
    {
        // Given the TorchSharp this test process loaded (copied to bin/ by the build)
        var div = typeof(Tensor).GetMethod(nameof(Tensor.div), [typeof(Scalar), typeof(RoundingMode)])!;

        var warnings = new List<string>();
        TorchSharpPatch.WarnOnceIfKeepAliveMissing(warnings.Add);

        // Then it carries the marker, and Tensor.div(Scalar) really keeps its Scalar alive: the hammer test below
        // cannot pass by luck on the assembly as shipped; and nothing is worth a warning
        Assert.True(TorchSharpPatch.IsKeepAliveApplied, $"{TorchSharpPatch.TorchSharpLocation} is not rewritten");
        Assert.Empty(warnings);
        Assert.Equal(TorchSharpPatch.ExpectedKeepAliveVersion, TorchSharpPatch.KeepAliveVersion);
        Assert.True(CallsGcKeepAlive(div), "Tensor.div(Scalar) does not call GC.KeepAlive");
        var copy = typeof(Tensor).GetMethod(nameof(Tensor.copy_), [typeof(Tensor), typeof(bool)])!;
        Assert.True(CallsGcKeepAlive(copy), "Tensor.copy_(Tensor) does not call GC.KeepAlive");
    }

    [Fact]
    public void Every_rewritten_method_compiles()
    {
        // Given every non-generic TorchSharp method that calls GC.KeepAlive
        var rewritten = typeof(Scalar).Assembly.GetTypes()
            .Where(t => !t.ContainsGenericParameters)
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                .Cast<MethodBase>()
                .Concat(t.GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static)))
            .Where(m => !m.ContainsGenericParameters && m.GetMethodBody() is not null && CallsGcKeepAlive(m))
            .ToList();

        // When the JIT compiles each, then none is invalid IL (InvalidProgramException)
        foreach (var method in rewritten)
            RuntimeHelpers.PrepareMethod(method.MethodHandle);
        Assert.True(rewritten.Count >= 300, $"only {rewritten.Count} rewritten methods");
    }

    [Fact]
    public void A_million_tensor_with_number_operations_survive_a_thread_forcing_collections()
    {
        // Given tiny tensors, a LeakyReLU and the four optimizers on one-element parameters with a fixed gradient,
        // and for each kind of operation a thread collecting and finalising without pause; no no-GC region, no retry
        using var three = tensor(new[] { 3f });
        using var one = tensor(new[] { 1f });
        using var two = tensor(new[] { 2f });
        using var minusTwo = tensor(new[] { -2f });
        using var leaky = nn.LeakyReLU(0.1);
        var kinds = new List<(string Name, int Count, Action Body)>
        {
            ("t / 2.0", 200_000, () => Expect(three / 2.0, 1.5f)),
            ("a + b", 200_000, () => Expect(one + two, 3f)),
            ("a - b", 200_000, () => Expect(one - two, -1f)),
            ("LeakyReLU forward", 200_000, () => Expect(leaky.call(minusTwo), -0.2f)),
        };
        var parameters = new List<TorchSharp.Modules.Parameter>();
        var optimizers = new List<optim.Optimizer>();
        foreach (var (name, make) in new (string, Func<TorchSharp.Modules.Parameter, optim.Optimizer>)[]
        {
            ("Adam step", p => optim.Adam([p], 1e-4)),
            ("SGD step", p => optim.SGD([p], 1e-4, momentum: 0.9)),
            ("AdamW step", p => optim.AdamW([p], 1e-4)),
            ("RMSprop step", p => optim.RMSProp([p], 1e-4)),
        })
        {
            var p = nn.Parameter(tensor(new[] { 1f }));
            (p * p).sum().backward();                 // the gradient stays: every step reads it again
            var optimizer = make(p);
            parameters.Add(p);
            optimizers.Add(optimizer);
            kinds.Add((name, 50_000, () => optimizer.step()));
        }

        try
        {
            // When each runs its share of 1,000,000 operations
            var clock = Stopwatch.StartNew();
            var report = new List<string>();
            int total = 0, failures = 0;
            foreach (var (name, count, body) in kinds)
            {
                var kindClock = Stopwatch.StartNew();
                int collections = GC.CollectionCount(2);
                var (n, failed) = GcHammer.Run(body, count, maxSeconds: 600);
                collections = GC.CollectionCount(2) - collections;
                total += n;
                failures += failed.Count;
                report.Add($"{name}: {n:N0} ops, {failed.Count} failures, {collections:N0} full collections, {kindClock.Elapsed.TotalSeconds:F1} s{(failed.Count > 0 ? $" (first: {failed[0]})" : "")}");
            }
            report.Add($"total: {total:N0} ops, {failures} failures, {clock.Elapsed.TotalSeconds:F1} s, TorchSharp rewritten: {TorchSharpPatch.IsKeepAliveApplied}");
            foreach (var line in report) output.WriteLine(line);

            // Then every operation ran and none failed, and the parameters are still finite
            Assert.True(failures == 0, string.Join(Environment.NewLine, report));
            Assert.Equal(1_000_000, total);
            Assert.All(parameters, p => Assert.True(float.IsFinite(p.item<float>())));
        }
        finally
        {
            foreach (var optimizer in optimizers) optimizer.Dispose();
            foreach (var p in parameters) p.Dispose();
        }
    }

    [Fact]
    public void Temporary_tensors_passed_to_native_calls_survive_a_thread_forcing_collections()
    {
        // Given temporaries no dispose scope holds, each passed straight to another native call: the pattern of
        // StateDicts.LoadStrict (dst.copy_(src.to(dtype))) that segfaulted a test host in
        // intrusive_ptr<TensorImpl>::retain_ when the finalizer freed the temporary's at::Tensor mid-call
        using var source = arange(64, ScalarType.Float32);
        using var other = ones(64);
        using var target = zeros(64);
        var kinds = new (string Name, int Count, Action Body)[]
        {
            ("dst.copy_(src.to(dtype))", 100_000, () =>
            {
                using (no_grad()) target.copy_(source.to(ScalarType.Float32));
                Expect(target.sum(), 2016f);
            }),
            ("a.add(b.mul(c))", 100_000, () => Expect(other.add(source.mul(other)).sum(), 2080f)),
            ("cat([a.view(-1), b.neg()])", 100_000, () => Expect(cat([source.view(-1), other.neg()]).sum(), 1952f)),
            // 256 temporaries in one native call: libtorch copies them one after another (retain_ on each), a wide window
            ("cat(256 views)", 15_000, () => Expect(cat(Enumerable.Range(0, 256).Select(_ => source.view(-1)).ToList()).sum(), 256 * 2016f)),
        };

        // When each runs its count beside a thread collecting and finalising without pause
        var report = new List<string>();
        int failures = 0;
        foreach (var (name, count, body) in kinds)
        {
            var (n, failed) = GcHammer.Run(body, count, maxSeconds: 300);
            failures += failed.Count + (n < count ? 1 : 0);
            report.Add($"{name}: {n:N0} ops, {failed.Count} failures{(failed.Count > 0 ? $" (first: {failed[0]})" : "")}");
        }
        foreach (var line in report) output.WriteLine(line);

        // Then every operation ran (an unprotected TorchSharp crashes the process or computes from freed memory)
        Assert.True(failures == 0, string.Join(Environment.NewLine, report));
    }

    /// <summary>Checks a one-element result and disposes it; a wrong value (libtorch read a freed Scalar) counts as a failure.</summary>
    private static void Expect(Tensor result, float expected)
    {
        using (result)
        {
            float value = result.item<float>();
            if (Math.Abs(value - expected) > 1e-6f)
                throw new InvalidOperationException($"expected {expected}, got {value}");
        }
    }

    /// <summary>Whether <paramref name="method"/>'s IL has a <c>call System.GC::KeepAlive</c>.</summary>
    private static bool CallsGcKeepAlive(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray() ?? [];
        for (int i = 0; i + 4 < il.Length; i++)
        {
            if (il[i] != 0x28) continue; // call <token>; a 0x28 inside another operand resolves to something else or throws
            try
            {
                if (method.Module.ResolveMethod(BitConverter.ToInt32(il, i + 1)) is { Name: nameof(GC.KeepAlive) } callee && callee.DeclaringType == typeof(GC))
                    return true;
            }
            catch (ArgumentException) { }
        }
        return false;
    }
}
