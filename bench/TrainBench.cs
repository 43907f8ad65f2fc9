namespace SharpVision.Bench;
public static class TrainBench { public static int Run(BenchArgs args) => 0; }
