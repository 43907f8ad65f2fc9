using System.Globalization;
using System.Runtime.InteropServices;

namespace SharpVision.Platform;

/// <summary>What <see cref="OneDnnCacheFix.TryApply"/> did.</summary>
/// <param name="Applied">True when oneDNN now uses its default cache sizes.</param>
/// <param name="Detail">What was found or done, for <c>doctor</c> and the start-up note.</param>
public sealed record CacheFixResult(bool Applied, string Detail);

/// <summary>
/// The root-cause fix for oneDNN 3.7.1 (inside libtorch 2.10) on CPUs that hide their cache leaves.
/// <para>
/// What goes wrong: oneDNN's CPU detection (its bundled Xbyak, <c>xbyak_util.h</c> <c>setCacheHierarchy</c>) assumes
/// on AMD that CPUID 0x8000001D describes three cache levels and never checks it; where a hypervisor zeroes that
/// leaf every level comes out as 1 byte. <c>platform::get_per_core_cache_size</c> then returns 1 for L1, L2 and L3,
/// and every heuristic sized from it degenerates: brgemm blocks reach 0, and <c>est_eff_1x1</c> divides by zero
/// (SIGFPE in ResNet-50's 1x1 stride-2 backward); <c>jit_uni_reorder</c>'s cache budget, 3/4 of L1, becomes 0 and
/// forces a blocking that drops data and leaves padding unwritten when channels are not a multiple of the block
/// (wrong forward outputs and input gradients, the YOLO NaN). No ISA limit avoids both.
/// </para>
/// <para>
/// The fix: oneDNN falls back to its own defaults (32 KiB, 512 KiB, 1 MiB per core) when Xbyak reports no cache
/// level, which is what oneDNN 3.8 and later do on such a machine (their Xbyak stops at an empty leaf). We set that
/// count to 0 in the process, before the first oneDNN primitive is created (the primitive cache would keep the old
/// blocking). The object is not exported, so it is found through the static symbol table of the exact
/// <c>libtorch_cpu.so</c> build we ship (checked by its GNU build ID), and only written when it holds the bad
/// signature (3 levels of 1 byte). Anything unexpected leaves the library untouched and says why.
/// </para>
/// </summary>
public static class OneDnnCacheFix
{
    /// <summary>Where oneDNN's <c>cpu()</c> and its object sit in one libtorch_cpu.so build (offsets from its load base).</summary>
    public sealed record KnownBuild(string BuildId, string LibTorch, long CpuFunction, long CpuObject);

    /// <summary>
    /// Builds whose offsets were read from their symbol table (<c>nm libtorch_cpu.so</c>:
    /// <c>dnnl::impl::cpu::x64::cpu()</c> and its static <c>cpu_</c>).
    /// </summary>
    public static IReadOnlyList<KnownBuild> KnownBuilds { get; } =
    [
        new("e59a73f8ca02c19463bd923dc568ce765b2a1106", "libtorch-cpu-linux-x64 2.10.0", 0xf89b1a0, 0x1585b180),
    ];

    // Xbyak::util::Cpu (oneDNN 3.7.1): uint32_t dataCacheSize_[10] at 0x1c, coresSharingDataCache_[10] at 0x44,
    // dataCacheLevels_ at 0x6c (read from the disassembly of platform::get_per_core_cache_size).
    private const int SizesOffset = 0x1c, SharingOffset = 0x44, LevelsOffset = 0x6c;

    /// <summary>
    /// Sets oneDNN's cache level count to 0 when it holds the 1-byte sizes of a hidden-cache CPU. Call it after
    /// libtorch is loaded and before any convolution runs; a second call finds nothing to do.
    /// </summary>
    public static unsafe CacheFixResult TryApply()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
            return new(false, "the in-process fix is for Linux x86-64 libtorch only");
        var library = FindLoaded(File.ReadAllText("/proc/self/maps"), "libtorch_cpu.so");
        if (library is null) return new(false, "libtorch_cpu.so is not loaded");
        var (baseAddress, path) = library.Value;
        string? buildId = ReadBuildId(path);
        var build = KnownBuilds.FirstOrDefault(b => b.BuildId == buildId);
        if (build is null)
            return new(false, $"{path} is build {buildId ?? "(no build ID)"}, not one whose oneDNN internals we know");

        nint cpu = ((delegate* unmanaged<nint>)(baseAddress + build.CpuFunction))();
        if (cpu != baseAddress + build.CpuObject)
            return new(false, $"oneDNN's cpu() returned an unexpected address in {build.LibTorch}");
        int levels = Marshal.ReadInt32(cpu, LevelsOffset);
        if (levels == 0) return new(true, "oneDNN already uses its default cache sizes");
        var sizes = Enumerable.Range(0, levels).Select(i => Marshal.ReadInt32(cpu, SizesOffset + 4 * i)).ToArray();
        var sharing = Enumerable.Range(0, levels).Select(i => Marshal.ReadInt32(cpu, SharingOffset + 4 * i)).ToArray();
        if (levels != 3 || sizes.Any(s => s != 1) || sharing.Any(s => s != 1))
            return new(false, string.Create(CultureInfo.InvariantCulture,
                $"oneDNN's cache sizes are {string.Join(", ", sizes)} bytes, not the 1-byte values this fix is for; left alone"));
        Marshal.WriteInt32(cpu, LevelsOffset, 0);
        return new(true, "oneDNN read the hidden cache sizes as 1 byte each; it now uses its defaults (32 KiB, 512 KiB, 1 MiB per core), as oneDNN 3.8+ does");
    }

    /// <summary>Load base and path of <paramref name="fileName"/> in a <c>/proc/PID/maps</c> text (its offset-0 mapping).</summary>
    public static (nint Base, string Path)? FindLoaded(string maps, string fileName)
    {
        foreach (var line in maps.Split('\n'))
        {
            // "7f12a0000000-7f12a1000000 r--p 00000000 08:01 1234   /path/libtorch_cpu.so"
            var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 6 || fields[2] != "00000000") continue;
            string path = fields[5].Trim();
            if (Path.GetFileName(path) != fileName) continue;
            return ((nint)long.Parse(fields[0].Split('-')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture), path);
        }
        return null;
    }

    /// <summary>The GNU build ID (hex) of an ELF64 little-endian file, from its PT_NOTE segments; null when it has none.</summary>
    public static string? ReadBuildId(string path)
    {
        using var file = File.OpenRead(path);
        using var reader = new BinaryReader(file);
        if (reader.ReadUInt32() != 0x464C457F || reader.ReadByte() != 2 || reader.ReadByte() != 1) return null;   // \x7fELF, 64-bit, little-endian
        file.Position = 0x20;
        long programHeaders = reader.ReadInt64();
        file.Position = 0x36;
        int entrySize = reader.ReadUInt16(), count = reader.ReadUInt16();
        for (int i = 0; i < count; i++)
        {
            file.Position = programHeaders + (long)i * entrySize;
            if (reader.ReadUInt32() != 4) continue;                                                    // PT_NOTE
            file.Position = programHeaders + (long)i * entrySize + 8;
            long offset = reader.ReadInt64();
            file.Position = programHeaders + (long)i * entrySize + 0x20;
            long size = reader.ReadInt64();
            for (long at = offset; at + 12 <= offset + size;)
            {
                file.Position = at;
                int nameSize = reader.ReadInt32(), descSize = reader.ReadInt32(), type = reader.ReadInt32();
                var name = reader.ReadBytes(Align4(nameSize));
                var desc = reader.ReadBytes(Align4(descSize));
                if (type == 3 && nameSize == 4 && name[0] == (byte)'G' && name[1] == (byte)'N' && name[2] == (byte)'U')   // NT_GNU_BUILD_ID
                    return Convert.ToHexStringLower(desc, 0, descSize);
                at += 12 + Align4(nameSize) + Align4(descSize);
            }
        }
        return null;
    }

    private static int Align4(int n) => (n + 3) & ~3;
}
