using System.Runtime.InteropServices;

namespace SharpVision.Imaging;

/// <summary>
/// The system's libjpeg-turbo through its TurboJPEG API (libturbojpeg: Debian/Ubuntu <c>libturbojpeg0</c>, Fedora
/// <c>turbojpeg</c>, Homebrew <c>jpeg-turbo</c>, Windows <c>turbojpeg.dll</c>), loaded when present. Why: SkiaSharp's
/// x64 native builds carry libjpeg-turbo without its SIMD code (mono/SkiaSharp#1693), and decoding is most of a
/// training loader's time; the distributions' builds have the SIMD paths (the same library PIL links), which decode
/// the bench's 500x375 photos at half DCT scale about twice as fast. Optional: absent, <see cref="ImageDecoder"/>
/// decodes every JPEG with SkiaSharp as before. Licence: libjpeg-turbo's IJG + BSD-3-Clause + zlib terms.
/// </summary>
/// <remarks>
/// The TurboJPEG API reports errors through return codes (libjpeg's own API needs setjmp, which C# cannot give it).
/// One handle per call: creating and destroying one costs about 0.6 microseconds against ~0.5 ms to decode a photo,
/// and keeps the decoder stateless and thread-safe like the SkiaSharp path.
/// </remarks>
public static unsafe class TurboJpeg
{
    private const int PixelFormatRgb = 0; // TJPF_RGB: 3 bytes per pixel, R G B, rows packed (pitch 0 = width * 3)

    private static readonly string[] LibraryNames =
    [
        "libturbojpeg.so.0", "libturbojpeg.so",                          // Linux
        "libturbojpeg.0.dylib", "libturbojpeg.dylib",                    // macOS (on the loader path)
        "/opt/homebrew/opt/jpeg-turbo/lib/libturbojpeg.dylib",          // Homebrew, Apple silicon
        "/usr/local/opt/jpeg-turbo/lib/libturbojpeg.dylib",             // Homebrew, Intel
        "turbojpeg.dll", "turbojpeg",                                    // Windows (libjpeg-turbo's installer)
    ];

    private sealed class Api
    {
        public required string Library { get; init; }
        public required delegate* unmanaged<IntPtr> InitDecompress { get; init; }
        public required delegate* unmanaged<IntPtr, int> Destroy { get; init; }
        // int tjDecompress2(handle, jpegBuf, unsigned long jpegSize, dstBuf, width, pitch, height, pixelFormat, flags)
        public required delegate* unmanaged<IntPtr, byte*, CULong, byte*, int, int, int, int, int, int> Decompress2 { get; init; }
        // int tjDecompressHeader3(handle, jpegBuf, unsigned long jpegSize, int* width, int* height, int* subsamp, int* colorspace)
        public required delegate* unmanaged<IntPtr, byte*, CULong, int*, int*, int*, int*, int> DecompressHeader3 { get; init; }
    }

    private static readonly Lazy<Api?> Loaded = new(Load);

    /// <summary>Whether libturbojpeg was found and has the functions we call.</summary>
    public static bool IsAvailable => Loaded.Value is not null;

    /// <summary>The library name that loaded, or null.</summary>
    public static string? Library => Loaded.Value?.Library;

    /// <summary>
    /// Decodes a JPEG to RGB at exactly <paramref name="width"/> x <paramref name="height"/>, which must be the
    /// image's size at one of the DCT scales (1, 1/2, 1/4, 1/8: libjpeg's rounded-up sizes). Stored orientation
    /// (no EXIF rotation). Returns null on any failure, warnings included (a truncated file, CMYK, a size that is
    /// not a DCT scale), so the caller can hand the file to the SkiaSharp path, which decides the error message.
    /// </summary>
    public static RgbImage? TryDecode(ReadOnlySpan<byte> jpeg, int width, int height)
    {
        Api? api = Loaded.Value;
        if (api is null || jpeg.Length == 0)
            return null;
        IntPtr handle = api.InitDecompress();
        if (handle == IntPtr.Zero)
            return null;
        try
        {
            fixed (byte* src = jpeg)
            {
                int w, h, subsampling, colorspace;
                if (api.DecompressHeader3(handle, src, new CULong((nuint)jpeg.Length), &w, &h, &subsampling, &colorspace) != 0)
                    return null;
                if (!IsDctScale(w, h, width, height))
                    return null;
                var image = new RgbImage(width, height);
                fixed (byte* dst = image.Pixels)
                {
                    // Asked for (width, height), TurboJPEG takes the largest scaling factor whose output fits: the
                    // DCT scale that gives exactly this size. Default flags: accurate integer IDCT, fancy upsampling,
                    // as SkiaSharp's libjpeg-turbo decodes.
                    int status = api.Decompress2(handle, src, new CULong((nuint)jpeg.Length), dst, width, 0, height, PixelFormatRgb, 0);
                    return status == 0 ? image : null;
                }
            }
        }
        finally
        {
            api.Destroy(handle);
        }
    }

    /// <summary>Whether (width, height) is the full (w, h) scaled by 1, 1/2, 1/4 or 1/8 with libjpeg's rounding up.</summary>
    public static bool IsDctScale(int w, int h, int width, int height)
    {
        foreach (int denominator in (ReadOnlySpan<int>)[1, 2, 4, 8])
        {
            if (width == (w + denominator - 1) / denominator && height == (h + denominator - 1) / denominator)
                return true;
        }
        return false;
    }

    private static Api? Load()
    {
        foreach (string name in LibraryNames)
        {
            if (!NativeLibrary.TryLoad(name, typeof(TurboJpeg).Assembly, DllImportSearchPath.SafeDirectories | DllImportSearchPath.AssemblyDirectory, out IntPtr lib)
                && !NativeLibrary.TryLoad(name, out lib))
                continue;
            if (NativeLibrary.TryGetExport(lib, "tjInitDecompress", out IntPtr init)
                && NativeLibrary.TryGetExport(lib, "tjDestroy", out IntPtr destroy)
                && NativeLibrary.TryGetExport(lib, "tjDecompress2", out IntPtr decompress)
                && NativeLibrary.TryGetExport(lib, "tjDecompressHeader3", out IntPtr header))
            {
                return new Api
                {
                    Library = name,
                    InitDecompress = (delegate* unmanaged<IntPtr>)init,
                    Destroy = (delegate* unmanaged<IntPtr, int>)destroy,
                    Decompress2 = (delegate* unmanaged<IntPtr, byte*, CULong, byte*, int, int, int, int, int, int>)decompress,
                    DecompressHeader3 = (delegate* unmanaged<IntPtr, byte*, CULong, int*, int*, int*, int*, int>)header,
                };
            }
            NativeLibrary.Free(lib);
        }
        return null;
    }
}
