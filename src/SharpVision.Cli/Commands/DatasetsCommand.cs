namespace SharpVision.Cli.Commands;

public static class DatasetsCommand
{
    public static int Run(string[] args) => throw new SharpVisionException("Datasets is being built");
}
