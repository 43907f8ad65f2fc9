namespace SharpVision.Cli.Commands;

public static class PredictCommand
{
    public static int Run(string[] args) => throw new SharpVisionException("Predict is being built");
}
