namespace SharpVision.Evaluation.Detection;

/// <summary>
/// The few pieces of numpy arithmetic the reference evaluators depend on, reproduced bit for bit so our
/// numbers equal pycocotools' and voc_eval's to the last digit rather than "to 1e-12": <c>np.linspace</c>
/// (which gives 0.7000000000000001, not 0.7), <c>np.arange</c> for floats, and the pairwise summation
/// behind <c>np.sum</c>/<c>np.mean</c> of a contiguous float64 array.
/// </summary>
public static class NumpyCompat
{
    /// <summary>numpy's <c>np.spacing(1)</c> (2^-52), which pycocotools adds to the precision denominator.</summary>
    public const double Spacing1 = 2.220446049250313e-16;

    // numpy reduces a contiguous array in buffer-sized chunks (NPY_BUFSIZE) and sums each with pairwise_sum.
    private const int BufferSize = 8192;

    // pairwise_sum's block: below it, eight interleaved accumulators; above it, split in two halves.
    private const int PairwiseBlock = 128;

    /// <summary>
    /// <c>np.linspace(start, stop, num)</c> (endpoint=True): <c>start + i * step</c> with
    /// <c>step = (stop - start) / (num - 1)</c>, and the last point set to exactly <paramref name="stop"/>.
    /// </summary>
    public static double[] Linspace(double start, double stop, int num)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(num);
        var y = new double[num];
        if (num == 0) return y;
        if (num == 1) { y[0] = start; return y; }
        double delta = stop - start;
        double step = delta / (num - 1);
        for (int i = 0; i < num; i++)
            y[i] = step == 0 ? i / (double)(num - 1) * delta + start : i * step + start;
        y[^1] = stop;
        return y;
    }

    /// <summary>
    /// <c>np.arange(start, stop, step)</c> for floats: <c>ceil((stop - start) / step)</c> values
    /// <c>start + i * delta</c>, where <c>delta = (start + step) - start</c> as numpy computes it.
    /// </summary>
    public static double[] Arange(double start, double stop, double step)
    {
        int n = Math.Max(0, (int)Math.Ceiling((stop - start) / step));
        var y = new double[n];
        if (n == 0) return y;
        y[0] = start;
        if (n > 1) y[1] = start + step;
        // numpy fills the rest from the first two values: delta = a[1] - a[0], a[i] = a[0] + i * delta.
        double delta = n > 1 ? y[1] - y[0] : step;
        for (int i = 2; i < n; i++) y[i] = start + i * delta;
        return y;
    }

    /// <summary><c>np.sum</c> of a contiguous float64 array: 8192-element chunks, each summed pairwise.</summary>
    public static double Sum(ReadOnlySpan<double> values)
    {
        double total = 0;
        for (int start = 0; start < values.Length; start += BufferSize)
            total += PairwiseSum(values.Slice(start, Math.Min(BufferSize, values.Length - start)));
        return total;
    }

    /// <summary><c>np.mean</c> of a contiguous float64 array (NaN when empty, as numpy's warning case).</summary>
    public static double Mean(ReadOnlySpan<double> values) => values.Length == 0 ? double.NaN : Sum(values) / values.Length;

    /// <summary>
    /// numpy's <c>pairwise_sum</c>: fewer than 8 values in order; up to 128 with eight interleaved partial sums
    /// combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)) then the tail; more split at a multiple of 8 near half.
    /// </summary>
    private static double PairwiseSum(ReadOnlySpan<double> a)
    {
        int n = a.Length;
        if (n < 8)
        {
            double res = 0;
            for (int i = 0; i < n; i++) res += a[i];
            return res;
        }
        if (n <= PairwiseBlock)
        {
            Span<double> r = stackalloc double[8];
            for (int j = 0; j < 8; j++) r[j] = a[j];
            int i = 8;
            for (; i < n - n % 8; i += 8)
                for (int j = 0; j < 8; j++) r[j] += a[i + j];
            double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for (; i < n; i++) res += a[i];
            return res;
        }
        int n2 = n / 2;
        n2 -= n2 % 8;
        return PairwiseSum(a[..n2]) + PairwiseSum(a[n2..]);
    }
}
