using SharpVision.Platform;

namespace SharpVision.Tests.Platform;

public class ConvolutionRoutingTests
{
    [Fact]
    public void Hidden_caches_without_the_cache_fix_turn_on_both_detours_and_say_why()
    {
        var routing = ConvolutionRouting.Decide(FakeCpu.Zen5VmHidingCaches().Read(), "auto", oneDnnHandled: false);

        Assert.True(routing.SubsampleStrided1x1);
        Assert.True(routing.PadNarrowOutputs);
        Assert.Contains("hides its cache sizes", routing.Reason);
        Assert.Contains("divides by zero", routing.Reason);
    }

    [Fact]
    public void Hidden_caches_with_the_cache_fix_need_no_detour()
    {
        Assert.Equal(ConvolutionRouting.None, ConvolutionRouting.Decide(FakeCpu.Zen5VmHidingCaches().Read(), "auto", oneDnnHandled: true));
        Assert.Equal(ConvolutionRouting.None, ConvolutionRouting.Decide(FakeCpu.IntelVmHidingCaches().Read(), "auto", oneDnnHandled: true));
    }

    [Theory]
    [InlineData("intel")]
    [InlineData("amd")]
    public void Machines_that_report_caches_keep_todays_defaults(string kind)
    {
        var cpu = (kind == "intel" ? FakeCpu.IntelWithCaches() : FakeCpu.Zen5BareMetal()).Read();

        Assert.Equal(ConvolutionRouting.None, ConvolutionRouting.Decide(cpu, "auto", oneDnnHandled: false));
    }

    [Fact]
    public void An_intel_vm_hiding_leaf_4_is_treated_like_the_amd_one()
    {
        Assert.True(ConvolutionRouting.Decide(FakeCpu.IntelVmHidingCaches().Read(), "auto", false).SubsampleStrided1x1);
    }

    [Fact]
    public void Without_avx2_or_off_x86_nothing_is_rerouted()
    {
        Assert.Equal(ConvolutionRouting.None, ConvolutionRouting.Decide(FakeCpu.AvxOnly().Read(), "auto", false));
        var arm = new CpuInfo("", "Arm64", 0, 0, [], [], false, "not an x86-64 processor");
        Assert.Equal(ConvolutionRouting.None, ConvolutionRouting.Decide(arm, "auto", false));
    }

    [Fact]
    public void The_environment_setting_forces_or_disables_and_a_bad_value_is_named()
    {
        var metal = FakeCpu.IntelWithCaches().Read();
        var vm = FakeCpu.Zen5VmHidingCaches().Read();

        Assert.True(ConvolutionRouting.Decide(metal, ConvolutionRouting.ParseSetting("routing"), false).SubsampleStrided1x1);
        Assert.Equal(ConvolutionRouting.None, ConvolutionRouting.Decide(vm, ConvolutionRouting.ParseSetting(" OFF "), false));
        Assert.Equal(ConvolutionRouting.None, ConvolutionRouting.Decide(vm, ConvolutionRouting.ParseSetting("no-onednn"), true));
        Assert.Equal("auto", ConvolutionRouting.ParseSetting(null));
        var e = Assert.Throws<InvalidOptionException>(() => ConvolutionRouting.ParseSetting("yes"));
        Assert.Equal("SHARPVISION_ONEDNN_WORKAROUNDS must be one of auto, routing, no-onednn, off. Received: SHARPVISION_ONEDNN_WORKAROUNDS=yes", e.Message);
    }
}
