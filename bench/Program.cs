namespace SharpVision.Bench;

public static class Program
{
    public static int Main(string[] args) => args.Length > 0 && args[0] == "transfer" ? TransferBench.Run(args[1..]) : 0;
}
