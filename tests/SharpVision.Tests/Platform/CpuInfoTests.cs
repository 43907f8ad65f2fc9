using SharpVision.Platform;

namespace SharpVision.Tests.Platform;

public class CpuInfoTests
{
    [Fact]
    public void Zen5_vm_with_empty_cache_leaves_is_detected_as_hiding_them()
    {
        // Given the registers of issue 9's cloud VM; When read; Then the caches are hidden and the ISA is AVX-512 with BF16.
        var cpu = FakeCpu.Zen5VmHidingCaches().Read();

        Assert.Equal("AuthenticAMD", cpu.Vendor);
        Assert.Equal(26, cpu.Family);
        Assert.Equal(2, cpu.Model);
        Assert.True(cpu.CacheLeavesHidden);
        Assert.Contains("TOPOEXT off", cpu.CacheSource);
        Assert.Contains("avx512f", cpu.Isa);
        Assert.True(cpu.HasAvx512Bf16);
        // The legacy leaves still say something; they are shown, not trusted.
        Assert.Equal([new CacheInfo(1, 48, 0), new CacheInfo(2, 1024, 0), new CacheInfo(3, 0x3F8 * 512, 0)], cpu.Caches);
    }

    [Fact]
    public void Amd_bare_metal_reports_its_caches_through_leaf_8000001D()
    {
        var cpu = FakeCpu.Zen5BareMetal().Read();

        Assert.False(cpu.CacheLeavesHidden);
        Assert.Equal("CPUID 0x8000001D", cpu.CacheSource);
        // The instruction cache is skipped: L1d, L2, L3 with their sharing.
        Assert.Equal([new CacheInfo(1, 48, 1), new CacheInfo(2, 1024, 1), new CacheInfo(3, 32 * 1024, 16)], cpu.Caches);
    }

    [Fact]
    public void Intel_reports_its_caches_through_leaf_4_and_a_vm_that_zeroes_it_hides_them()
    {
        var metal = FakeCpu.IntelWithCaches().Read();
        var vm = FakeCpu.IntelVmHidingCaches().Read();

        Assert.Equal("GenuineIntel", metal.Vendor);
        Assert.Equal(143, metal.Model);
        Assert.False(metal.CacheLeavesHidden);
        Assert.Equal([new CacheInfo(1, 48, 2), new CacheInfo(2, 2048, 2), new CacheInfo(3, 107520, 112)], metal.Caches);
        Assert.Contains("amx_tile", metal.Isa);
        Assert.True(vm.CacheLeavesHidden);
        Assert.Empty(vm.Caches);
        Assert.Equal("CPUID leaf 4 empty", vm.CacheSource);
    }

    [Fact]
    public void This_machine_reads_without_error()
    {
        // Whatever the CPU, reading it works and an x86-64 one names its vendor and at least SSE2.
        var cpu = CpuInfo.Current;
        if (cpu.IsX86) Assert.Contains("sse2", cpu.Isa);
        Assert.False(string.IsNullOrWhiteSpace(cpu.Brand + cpu.Vendor));
    }
}
