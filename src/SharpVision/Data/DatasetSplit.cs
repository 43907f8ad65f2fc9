namespace SharpVision.Data;

/// <summary>Training/validation splits.</summary>
public static class DatasetSplit
{
    /// <summary>
    /// Splits each class separately: its samples are shuffled with a seed derived from
    /// (<paramref name="seed"/>, class index) and <c>round(valFraction * count)</c> of them (midpoint away from
    /// zero) go to validation, at least 1 and at most count - 1 when the class has 2 or more samples; a class
    /// with one sample stays in training. Both halves keep the dataset's original order and class list, so the
    /// result is the same on every run and does not depend on the other classes.
    /// </summary>
    /// <exception cref="InvalidOptionException">The fraction is not strictly between 0 and 1.</exception>
    public static (ClassificationDataset Train, ClassificationDataset Val) Stratified(
        ClassificationDataset dataset, double valFraction, int seed)
    {
        var labels = dataset.Samples.Select(s => s.Label).ToArray();
        var (train, val) = StratifiedIndices(labels, dataset.Classes.Count, valFraction, seed);
        ClassificationDataset Pick(List<int> indices) =>
            dataset with { Samples = indices.Select(i => dataset.Samples[i]).ToList(), Warnings = [] };
        return (Pick(train), Pick(val));
    }

    /// <summary>Index form of <see cref="Stratified"/>: sorted train and validation indices into <paramref name="labels"/>.</summary>
    internal static (List<int> Train, List<int> Val) StratifiedIndices(int[] labels, int numClasses, double valFraction, int seed)
    {
        if (!(valFraction > 0 && valFraction < 1))
            throw new InvalidOptionException("DatasetSplit.ValSplit", "a fraction between 0 and 1 (exclusive)",
                valFraction.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var isVal = new bool[labels.Length];
        for (int c = 0; c < numClasses; c++)
        {
            int[] members = Enumerable.Range(0, labels.Length).Where(i => labels[i] == c).ToArray();
            if (members.Length < 2) continue;
            Seeds.Shuffle(members, Seeds.Derive(Seeds.SplitSalt, seed, c));
            int take = (int)Math.Round(valFraction * members.Length, MidpointRounding.AwayFromZero);
            take = Math.Clamp(take, 1, members.Length - 1);
            for (int k = 0; k < take; k++) isVal[members[k]] = true;
        }
        var train = new List<int>();
        var val = new List<int>();
        for (int i = 0; i < labels.Length; i++) (isVal[i] ? val : train).Add(i);
        return (train, val);
    }
}
