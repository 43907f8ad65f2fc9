using SharpVision.Platform;

namespace SharpVision.Tests.Platform;

/// <summary>
/// CPUID registers of machines we do not have, as a <see cref="CpuIdFunction"/>: unlisted leaves read as zero, like
/// a CPU (or a hypervisor) that does not implement them.
/// </summary>
public sealed class FakeCpu
{
    private readonly Dictionary<(uint, uint), (uint, uint, uint, uint)> _leaves = new();

    public FakeCpu Set(uint leaf, uint subleaf, uint eax, uint ebx, uint ecx, uint edx)
    {
        _leaves[(leaf, subleaf)] = (eax, ebx, ecx, edx);
        return this;
    }

    public (uint Eax, uint Ebx, uint Ecx, uint Edx) CpuId(uint leaf, uint subleaf) =>
        _leaves.TryGetValue((leaf, subleaf), out var r) ? r : (0, 0, 0, 0);

    public CpuInfo Read() => CpuInfo.Read(CpuId);

    // Vendor strings in EBX, EDX, ECX order.
    private const uint Auth = 0x68747541, Enti = 0x69746e65, CAmd = 0x444d4163;
    private const uint Genu = 0x756e6547, IneI = 0x49656e69, Ntel = 0x6c65746e;

    // Leaf 1 ECX: fma (12), sse4.1 (19), avx (28); EDX: sse2 (26). Leaf 7 EBX: avx2 (5), avx512f (16), bw (30), vl (31).
    private const uint Leaf1Ecx = (1u << 12) | (1u << 19) | (1u << 28), Leaf1Edx = 1u << 26;
    private const uint Avx2Only = 1u << 5, Avx512 = (1u << 5) | (1u << 16) | (1u << 30) | (1u << 31);

    /// <summary>
    /// The cloud VM of issue 9, register for register (read with shared/tools/cpu-report): AMD family 26 (Zen 5),
    /// AVX-512 with VNNI and BF16, leaf 4 and 0x8000001D all zero, TOPOEXT off, legacy 0x80000005/6 filled in.
    /// </summary>
    public static FakeCpu Zen5VmHidingCaches() => new FakeCpu()
        .Set(0, 0, 0x10, Auth, CAmd, Enti)
        .Set(1, 0, 0x00B00F20, 0, Leaf1Ecx, Leaf1Edx)
        .Set(7, 0, 0, Avx512, 1u << 11, 0)
        .Set(7, 1, (1u << 4) | (1u << 5), 0, 0, 0)
        .Set(0x8000_0000, 0, 0x8000_0021, 0, 0, 0)
        .Set(0x8000_0001, 0, 0, 0, 0x440001f1, 0)
        .Set(0x8000_0005, 0, 0, 0, 0x30080140, 0)
        .Set(0x8000_0006, 0, 0, 0, 0x04006140, 0x0fe09140);

    /// <summary>The same CPU on bare metal: TOPOEXT on and 0x8000001D describing L1d 48 KiB, L1i, L2 1 MiB, L3 32 MiB.</summary>
    public static FakeCpu Zen5BareMetal() => Zen5VmHidingCaches()
        .Set(0x8000_0001, 0, 0, 0, 0x440001f1 | (1u << 22), 0)
        .Set(0x8000_001D, 0, 0x121, Ways(12, 64), 63, 0)            // L1d: 12 ways x 64 sets x 64 B
        .Set(0x8000_001D, 1, 0x122, Ways(8, 64), 63, 0)             // L1i
        .Set(0x8000_001D, 2, 0x143, Ways(16, 64), 1023, 0)          // L2: 16 x 1024 x 64 B = 1 MiB
        .Set(0x8000_001D, 3, 0x163 | (15u << 14), Ways(16, 64), 32767, 0); // L3: 16 x 32768 x 64 B = 32 MiB, 16 sharing

    /// <summary>An AVX-512 Intel server reporting its caches in leaf 4 (48 KiB L1d, 2 MiB L2, 105 MiB L3).</summary>
    public static FakeCpu IntelWithCaches() => IntelLeaves()
        .Set(4, 0, 0x121 | (1u << 14), Ways(12, 64), 63, 0)
        .Set(4, 1, 0x122 | (1u << 14), Ways(8, 64), 63, 0)
        .Set(4, 2, 0x143 | (1u << 14), Ways(16, 64), 2047, 0)
        .Set(4, 3, 0x163 | (111u << 14), Ways(15, 64), 114687, 0);

    /// <summary>The same Intel CPU under a hypervisor that zeroes leaf 4.</summary>
    public static FakeCpu IntelVmHidingCaches() => IntelLeaves();

    /// <summary>An AVX-only CPU (Sandy Bridge era): oneDNN's blocked jit kernels need AVX2, so nothing is rerouted.</summary>
    public static FakeCpu AvxOnly() => IntelLeaves().Set(7, 0, 0, 0, 0, 0);

    private static FakeCpu IntelLeaves() => new FakeCpu()
        .Set(0, 0, 0x20, Genu, Ntel, IneI)
        .Set(1, 0, 0x000806F8, 0, Leaf1Ecx, Leaf1Edx)
        .Set(7, 0, 0, Avx512, 1u << 11, (1u << 22) | (1u << 24))
        .Set(0x8000_0000, 0, 0x8000_0008, 0, 0, 0);

    // Leaf 4 / 0x8000001D EBX: ways - 1 in bits 31:22, partitions - 1 in 21:12 (one partition), line size - 1 in 11:0.
    private static uint Ways(uint ways, uint line) => ((ways - 1) << 22) | (line - 1);
}
