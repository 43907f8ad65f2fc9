namespace SharpVision.Cli.Commands;

public static class DemoCommand
{
    public static int Run(string[] args) => throw new SharpVisionException("Demo is being built");
}
