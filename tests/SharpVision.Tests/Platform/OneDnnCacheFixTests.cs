using SharpVision.Platform;

namespace SharpVision.Tests.Platform;

public class OneDnnCacheFixTests
{
    [Fact]
    public void Loaded_library_is_found_by_its_offset_zero_mapping()
    {
        const string maps = """
            7f1200000000-7f1200400000 r--p 00000000 08:01 77 /opt/x/libc10.so
            7f12a0000000-7f12a1000000 r--p 00000000 08:01 1234                       /home/u/app/runtimes/linux-x64/native/libtorch_cpu.so
            7f12a1000000-7f12b0000000 r-xp 01000000 08:01 1234                       /home/u/app/runtimes/linux-x64/native/libtorch_cpu.so
            7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
            """;

        var found = OneDnnCacheFix.FindLoaded(maps, "libtorch_cpu.so");

        Assert.NotNull(found);
        Assert.Equal(0x7f12a0000000L, (long)found.Value.Base);
        Assert.Equal("/home/u/app/runtimes/linux-x64/native/libtorch_cpu.so", found.Value.Path);
        Assert.Null(OneDnnCacheFix.FindLoaded(maps, "libtorch.so"));
    }

    [Fact]
    public void Build_id_of_the_shipped_libtorch_is_the_known_one()
    {
        // The libtorch the tests run on is the package build whose oneDNN offsets the fix knows.
        string lib = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libtorch_cpu.so");
        if (!File.Exists(lib)) return;   // not Linux x64: the fix does not apply there
        Assert.Equal(OneDnnCacheFix.KnownBuilds[0].BuildId, OneDnnCacheFix.ReadBuildId(lib));
        Assert.Null(OneDnnCacheFix.ReadBuildId(typeof(OneDnnCacheFixTests).Assembly.Location));   // not an ELF file
    }

    [Fact]
    public void On_a_cpu_hiding_its_caches_the_fix_is_applied_before_any_convolution()
    {
        // Given this machine; Then: hidden caches -> fixed in place, no detours; reported caches -> nothing touched.
        TorchRuntime.Initialize();
        var cpu = CpuInfo.Current;
        if (cpu.IsX86 && cpu.CacheLeavesHidden && OperatingSystem.IsLinux())
        {
            Assert.NotNull(TorchRuntime.CacheFix);
            Assert.True(TorchRuntime.CacheFix!.Applied, TorchRuntime.CacheFix.Detail);
            Assert.Equal(ConvolutionRouting.None, ConvolutionRouting.Current);
            Assert.Contains("hides its cache sizes", TorchRuntime.Note);
            // A second application finds oneDNN already on its defaults.
            Assert.Equal("oneDNN already uses its default cache sizes", OneDnnCacheFix.TryApply().Detail);
        }
        else
        {
            Assert.Null(TorchRuntime.CacheFix);
            Assert.Equal("", TorchRuntime.Note);
        }
    }
}
