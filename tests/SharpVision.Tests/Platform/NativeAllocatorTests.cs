using SharpVision.Platform;
using Xunit.Abstractions;

namespace SharpVision.Tests.Platform;

public class NativeAllocatorTests(ITestOutputHelper output)
{
    private sealed class FakePlatform(string? glibc, Dictionary<string, string>? variables = null, int answer = 1) : NativeAllocator.IPlatform
    {
        public List<(int Parameter, int Value)> Calls { get; } = [];
        public string? GlibcVersion => glibc;
        public string? Variable(string name) => variables is not null && variables.TryGetValue(name, out var v) ? v : null;

        public int Mallopt(int parameter, int value)
        {
            Calls.Add((parameter, value));
            return answer;
        }
    }

    [Fact]
    public void On_glibc_the_three_parameters_are_set_mmap_threshold_first()
    {
        var platform = new FakePlatform("2.36");

        var tuning = NativeAllocator.Decide(platform);

        Assert.True(tuning.Applied);
        // M_MMAP_THRESHOLD (-3) before M_TRIM_THRESHOLD (-1): the latter turns the dynamic threshold off.
        Assert.Equal([(-3, 1 << 30), (-1, 1 << 30), (-2, 64 << 20)], platform.Calls);
        Assert.Contains("glibc 2.36", tuning.Detail);
        Assert.Contains("mmap threshold 1024 MiB", tuning.Detail);
    }

    [Theory]
    [InlineData("MALLOC_TRIM_THRESHOLD_", "0")]
    [InlineData("MALLOC_ARENA_MAX", "2")]
    [InlineData("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=1000000")]
    public void A_user_who_tuned_malloc_keeps_their_settings(string name, string value)
    {
        var platform = new FakePlatform("2.36", new() { [name] = value });

        var tuning = NativeAllocator.Decide(platform);

        Assert.False(tuning.Applied);
        Assert.Empty(platform.Calls);
        Assert.Contains(name, tuning.Detail);
    }

    [Fact]
    public void Other_c_libraries_and_the_default_setting_are_left_alone()
    {
        var musl = new FakePlatform(null);
        var optedOut = new FakePlatform("2.36", new() { [NativeAllocator.EnvironmentVariable] = "default" });
        var unrelatedTunable = new FakePlatform("2.36", new() { ["GLIBC_TUNABLES"] = "glibc.cpu.hwcaps=-AVX512F" });

        Assert.False(NativeAllocator.Decide(musl).Applied);
        Assert.Contains("not glibc", NativeAllocator.Decide(musl).Detail);
        Assert.False(NativeAllocator.Decide(optedOut).Applied);
        Assert.Empty(musl.Calls);
        Assert.Empty(optedOut.Calls);
        Assert.True(NativeAllocator.Decide(unrelatedTunable).Applied);
    }

    [Fact]
    public void A_refused_parameter_is_named_and_not_reported_as_applied()
    {
        var tuning = NativeAllocator.Decide(new FakePlatform("2.36", answer: 0));

        Assert.False(tuning.Applied);
        Assert.Contains("refused M_MMAP_THRESHOLD, M_TRIM_THRESHOLD, M_TOP_PAD", tuning.Detail);
    }

    [Fact]
    public void A_bad_setting_names_the_variable_what_is_allowed_and_what_was_received()
    {
        var e = Assert.Throws<InvalidOptionException>(() =>
            NativeAllocator.Decide(new FakePlatform("2.36", new() { [NativeAllocator.EnvironmentVariable] = "fast" })));

        Assert.Contains(NativeAllocator.EnvironmentVariable, e.Message);
        Assert.Contains("tuned or default", e.Message);
        Assert.Contains("fast", e.Message);
    }

    [Fact]
    public void This_process_was_tuned_as_SharpVision_loaded()
    {
        // Given this Linux test process (glibc) with no malloc variable set by the user
        var tuning = NativeAllocator.Current;
        Assert.NotNull(tuning);
        output.WriteLine($"allocator: {tuning.Detail}");
        bool userTuned = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Any(k => k.StartsWith("MALLOC_", StringComparison.Ordinal) || k == "GLIBC_TUNABLES" || k == NativeAllocator.EnvironmentVariable);
        if (!OperatingSystem.IsLinux() || userTuned) return;

        // Then glibc accepted the three parameters before libtorch's first allocation
        Assert.True(tuning.Applied, tuning.Detail);
    }
}
