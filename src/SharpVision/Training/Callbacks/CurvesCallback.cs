using SharpVision.Reports;

namespace SharpVision.Training.Callbacks;

/// <summary>Redraws curves.png from results.csv after every epoch, so a running run can be watched.</summary>
public sealed class CurvesCallback(string resultsCsv, string png) : Callback
{
    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        if (File.Exists(resultsCsv)) TrainingCurves.Save(resultsCsv, png);
    }
}
