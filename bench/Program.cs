namespace SharpVision.Bench;

public static class Program
{
    public static int Main(string[] args) => args.FirstOrDefault() switch
    {
        "detect" => DetectBench.Run(args[1..]),
        _ => 0,
    };
}
