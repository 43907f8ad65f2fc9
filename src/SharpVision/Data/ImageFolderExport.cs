namespace SharpVision.Data;

/// <summary>
/// What <c>sharpvision datasets export</c> wrote (<see cref="Digits.Export"/>, <see cref="FashionMnist.Export"/>): the
/// two folders, each holding a folder per class, and the image counts per class (in the data set's label order).
/// </summary>
public sealed record ImageFolderExport(string TrainDir, string TestDir, int[] TrainPerClass, int[] TestPerClass)
{
    public int TrainCount => TrainPerClass.Sum();
    public int TestCount => TestPerClass.Sum();

    /// <summary>
    /// Writes the items <paramref name="indices"/> as <c>dir/&lt;class name&gt;/&lt;index&gt;.png</c>, the PNG bytes from
    /// <paramref name="png"/>, the class from <paramref name="labelOf"/> (an index into <paramref name="classes"/>), on
    /// every core (70,000 small files are mostly waiting on the file system). Creates every class folder, even an empty
    /// one; overwrites files of the same name and leaves others alone. Returns the count per class.
    /// </summary>
    internal static int[] WriteSplit(string dir, IReadOnlyList<string> classes, IReadOnlyList<int> indices, Func<int, int> labelOf, Func<int, byte[]> png)
    {
        var perClass = new int[classes.Count];
        foreach (string name in classes) Directory.CreateDirectory(Path.Combine(dir, name));
        Parallel.ForEach(indices, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            int label = labelOf(i);
            string path = Path.Combine(dir, classes[label], i.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".png");
            File.WriteAllBytes(path, png(i));
            Interlocked.Increment(ref perClass[label]);
        });
        return perClass;
    }
}
