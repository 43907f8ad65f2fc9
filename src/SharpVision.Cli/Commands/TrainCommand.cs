namespace SharpVision.Cli.Commands;

public static class TrainCommand
{
    public static int Run(string[] args) => throw new SharpVisionException("Train is being built");
}
