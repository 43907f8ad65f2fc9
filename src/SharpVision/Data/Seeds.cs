namespace SharpVision.Data;

/// <summary>
/// Derives independent, reproducible seeds from a few integers (SplitMix64 finaliser), so that the
/// random stream of one sample or one class does not depend on how many others were drawn before it,
/// nor on the order in which threads ran.
/// </summary>
internal static class Seeds
{
    /// <summary>Salts keep the streams of different uses apart.</summary>
    public const long ShuffleSalt = 0x5348_5546, SplitSalt = 0x5350_4C54, SampleSalt = 0x5341_4D50;

    public static int Derive(long salt, long a, long b = 0, long c = 0)
    {
        ulong h = Mix((ulong)salt);
        h = Mix(h ^ (ulong)a);
        h = Mix(h ^ (ulong)b);
        h = Mix(h ^ (ulong)c);
        return (int)(h >> 33); // 31 bits: a non-negative int for System.Random.
    }

    private static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    /// <summary>Fisher-Yates shuffle in place with a seeded <see cref="Random"/> (stable across .NET versions).</summary>
    public static void Shuffle(int[] items, int seed)
    {
        var rng = new Random(seed);
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
