namespace SharpVision.Cli.Commands;

public static class EvaluateCommand
{
    public static int Run(string[] args) => throw new SharpVisionException("Evaluate is being built");
}
