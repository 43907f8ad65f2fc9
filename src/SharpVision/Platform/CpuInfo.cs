using System.Runtime.Intrinsics.X86;
using System.Text;

namespace SharpVision.Platform;

/// <summary>One CPUID call: the four registers for a leaf and subleaf.</summary>
public delegate (uint Eax, uint Ebx, uint Ecx, uint Edx) CpuIdFunction(uint leaf, uint subleaf);

/// <summary>A data or unified cache as CPUID describes it.</summary>
/// <param name="Level">1, 2 or 3.</param>
/// <param name="SizeKb">Total size in KiB.</param>
/// <param name="SharedBy">Logical processors sharing it (0 when the leaf does not say).</param>
public sealed record CacheInfo(int Level, int SizeKb, int SharedBy);

/// <summary>
/// What the processor says about itself through CPUID: vendor, model, the instruction sets oneDNN chooses kernels
/// by, and the cache hierarchy from the leaves oneDNN's CPU detection (Xbyak) reads.
/// <para>
/// Why we read it ourselves: some cloud VMs hide the deterministic cache leaves (Intel's leaf 4, AMD's 0x8000001D,
/// with TOPOEXT off), and libtorch 2.10's oneDNN 3.7.1 then divides by zero in 1x1 strided convolution backward
/// (see <see cref="ConvolutionRouting"/>). Every value comes from an injectable <see cref="CpuIdFunction"/>, so the
/// detection is tested with the registers of machines we do not have.
/// </para>
/// </summary>
public sealed record CpuInfo(
    string Vendor,
    string Brand,
    int Family,
    int Model,
    IReadOnlyList<string> Isa,
    IReadOnlyList<CacheInfo> Caches,
    bool CacheLeavesHidden,
    string CacheSource)
{
    /// <summary>True when CPUID is not available (not x86-64): nothing is read and no x86 workaround applies.</summary>
    public bool IsX86 => Vendor.Length > 0;

    /// <summary>True when AVX-512 BF16 instructions are there (Zen 4/5, Sapphire Rapids and later).</summary>
    public bool HasAvx512Bf16 => Isa.Contains("avx512_bf16");

    /// <summary>True when AMX tiles with BF16 are there (Intel Sapphire Rapids and later).</summary>
    public bool HasAmxBf16 => Isa.Contains("amx_bf16");

    /// <summary>This machine's processor (empty on a non-x86 machine).</summary>
    public static CpuInfo Current { get; } = X86Base.IsSupported
        ? Read(Native)
        : new("", System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString(), 0, 0, [], [], false, "not an x86-64 processor");

    private static (uint, uint, uint, uint) Native(uint leaf, uint subleaf)
    {
        var (a, b, c, d) = X86Base.CpuId((int)leaf, (int)subleaf);
        return ((uint)a, (uint)b, (uint)c, (uint)d);
    }

    /// <summary>Reads everything through <paramref name="cpuid"/> (the real instruction, or a test's registers).</summary>
    public static CpuInfo Read(CpuIdFunction cpuid)
    {
        var (maxLeaf, vb, vc, vd) = cpuid(0, 0);
        string vendor = Ascii(vb, vd, vc);
        uint maxExt = cpuid(0x8000_0000, 0).Eax;

        var (l1a, _, l1c, l1d) = cpuid(1, 0);
        int family = (int)((l1a >> 8) & 0xF), model = (int)((l1a >> 4) & 0xF);
        if (family == 0xF) family += (int)((l1a >> 20) & 0xFF);
        if (family >= 6) model |= (int)((l1a >> 12) & 0xF0);

        var isa = new List<string>();
        void Flag(bool on, string name) { if (on) isa.Add(name); }
        Flag(Bit(l1d, 26), "sse2");
        Flag(Bit(l1c, 19), "sse4_1");
        Flag(Bit(l1c, 12), "fma");
        Flag(Bit(l1c, 28), "avx");
        if (maxLeaf >= 7)
        {
            var (_, b7, c7, d7) = cpuid(7, 0);
            uint a71 = cpuid(7, 1).Eax;
            Flag(Bit(b7, 5), "avx2");
            Flag(Bit(b7, 16), "avx512f");
            Flag(Bit(b7, 30), "avx512bw");
            Flag(Bit(b7, 31), "avx512vl");
            Flag(Bit(c7, 11), "avx512_vnni");
            Flag(Bit(a71, 4), "avx_vnni");
            Flag(Bit(a71, 5), "avx512_bf16");
            Flag(Bit(d7, 24), "amx_tile");
            Flag(Bit(d7, 22), "amx_bf16");
        }

        string brand = "";
        if (maxExt >= 0x8000_0004)
        {
            var text = new StringBuilder();
            for (uint leaf = 0x8000_0002; leaf <= 0x8000_0004; leaf++)
            {
                var (a, b, c, d) = cpuid(leaf, 0);
                text.Append(Ascii(a, b, c, d));
            }
            brand = text.ToString().TrimEnd('\0').Trim();
        }

        bool amd = vendor is "AuthenticAMD" or "HygonGenuine";
        bool topoext = maxExt >= 0x8000_0001 && Bit(cpuid(0x8000_0001, 0).Ecx, 22);
        // The deterministic leaves Xbyak (oneDNN's CPU detection) walks: 0x8000001D on AMD, leaf 4 on Intel.
        var caches = amd
            ? (maxExt >= 0x8000_001D ? Deterministic(cpuid, 0x8000_001D) : [])
            : (maxLeaf >= 4 ? Deterministic(cpuid, 4) : []);
        if (caches.Count > 0)
            return new CpuInfo(vendor, brand, family, model, isa, caches, false, amd ? "CPUID 0x8000001D" : "CPUID leaf 4");

        // Hidden: say what the legacy AMD leaves still report (doctor prints it), but the deterministic leaves are empty.
        var legacy = amd && maxExt >= 0x8000_0006 ? Legacy(cpuid) : [];
        string source = amd
            ? $"CPUID 0x8000001D empty (TOPOEXT {(topoext ? "on" : "off")}); legacy 0x80000005/6 shown"
            : "CPUID leaf 4 empty";
        return new CpuInfo(vendor, brand, family, model, isa, legacy, true, source);
    }

    private static List<CacheInfo> Deterministic(CpuIdFunction cpuid, uint leaf)
    {
        var caches = new List<CacheInfo>();
        for (uint sub = 0; sub < 16; sub++)
        {
            var (a, b, c, _) = cpuid(leaf, sub);
            uint type = a & 0x1F;                       // 0 = no more caches, 1 = data, 2 = instruction, 3 = unified
            if (type == 0) break;
            if (type == 2) continue;
            int level = (int)((a >> 5) & 0x7);
            long ways = ((b >> 22) & 0x3FF) + 1, partitions = ((b >> 12) & 0x3FF) + 1, line = (b & 0xFFF) + 1, sets = (long)c + 1;
            int sharedBy = (int)((a >> 14) & 0xFFF) + 1;
            caches.Add(new CacheInfo(level, (int)(ways * partitions * line * sets / 1024), sharedBy));
        }
        return caches;
    }

    private static List<CacheInfo> Legacy(CpuIdFunction cpuid)
    {
        uint l1 = cpuid(0x8000_0005, 0).Ecx;
        var (_, _, l2, l3) = cpuid(0x8000_0006, 0);
        var caches = new List<CacheInfo>();
        if ((l1 >> 24) != 0) caches.Add(new CacheInfo(1, (int)(l1 >> 24), 0));
        if ((l2 >> 16) != 0) caches.Add(new CacheInfo(2, (int)(l2 >> 16), 0));
        if ((l3 >> 18) != 0) caches.Add(new CacheInfo(3, (int)(l3 >> 18) * 512, 0));
        return caches;
    }

    private static bool Bit(uint value, int bit) => ((value >> bit) & 1) != 0;

    private static string Ascii(params uint[] registers)
    {
        var bytes = registers.SelectMany(BitConverter.GetBytes).ToArray();
        return Encoding.ASCII.GetString(bytes);
    }

    /// <summary>"L1d 48 KiB, L2 1024 KiB, L3 32768 KiB" (per cache, as reported).</summary>
    public string DescribeCaches() =>
        Caches.Count == 0 ? "none reported" : string.Join(", ", Caches.Select(c => $"L{c.Level} {c.SizeKb} KiB"));
}
