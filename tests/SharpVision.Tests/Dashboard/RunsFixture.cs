using System.Net.Sockets;
using System.Text;
using SharpVision.Runs;

namespace SharpVision.Tests.Dashboard;

/// <summary>
/// A runs folder written by hand the way training and evaluate write theirs (results.csv, system.csv, args.yaml,
/// status.json, an evaluate folder naming the run's model), beside a secret file outside it that must never be served.
/// </summary>
internal sealed class RunsFixture : IDisposable
{
    public RunsFixture()
    {
        Directory.CreateDirectory(Runs);
        File.WriteAllText(Secret, "secret: not for the dashboard\n");

        string cls = Directory.CreateDirectory(Path.Combine(Runs, "train", "exp")).FullName;
        File.WriteAllText(Path.Combine(cls, "results.csv"), "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds,skipped\n1,0.9,0.6,1.0,0.55,0.001,2,0\n2,0.5,0.8,0.6,0.75,0.001,2,0\n");
        File.WriteAllText(Path.Combine(cls, "system.csv"), "epoch,images_per_second,memory_mb\n1,250,300\n2,260,310\n");
        File.WriteAllText(Path.Combine(cls, "args.yaml"), "data: '/data/train'\nmodel: 'minicnn'\nepochs: 2\n");
        Directory.CreateDirectory(Path.Combine(cls, "weights"));
        File.WriteAllText(Path.Combine(cls, "weights", "best.svmodel"), "weights are never served");
        (RunStatus.ForThisProcess(RunState.Finished, RunStatus.Classification) with { Epochs = 2, EpochsCompleted = 2 }).Write(cls);
        ClassificationRun = cls;

        string det = Directory.CreateDirectory(Path.Combine(Runs, "detect", "exp")).FullName;
        File.WriteAllText(Path.Combine(det, "results.csv"), "epoch,loss,loss_xy,loss_wh,loss_obj,loss_cls,val_map50,lr,seconds\n1,9,1,1,6,1,0.1,0.001,3\n");
        File.WriteAllText(Path.Combine(det, "anchors.txt"), "10,13, 16,30\n");
        File.WriteAllText(Path.Combine(det, "args.yaml"), "model: 'yolov3-tiny'\nepochs: 4\n");
        DetectionRun = det;

        string eval = Directory.CreateDirectory(Path.Combine(Runs, "evaluate", "exp")).FullName;
        File.WriteAllText(Path.Combine(eval, "metrics.json"),
            $$"""{ "accuracy": 0.9, "loss": 0.3, "model": "{{Path.Combine(cls, "weights", "best.svmodel")}}", "data": "/data/test" }""");
        File.WriteAllBytes(Path.Combine(eval, "confusion_matrix.png"), Png);
        Evaluation = eval;
    }

    /// <summary>The smallest valid PNG (1x1), enough for a browser to decode.</summary>
    public static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==");

    public string Root { get; } = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), "sv-dash-" + Guid.NewGuid().ToString("N"));
    public string Runs => Path.Combine(Root, "runs");
    public string Secret => Path.Combine(Root, "secret.txt");
    public string ClassificationRun { get; }
    public string DetectionRun { get; }
    public string Evaluation { get; }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

/// <summary>
/// HTTP/1.1 over a socket with the request target sent byte for byte: HttpClient (like a browser) folds <c>../</c> out of a
/// URL before sending it, and an attacker's request need not.
/// </summary>
internal static class RawHttp
{
    public sealed record Response(int Status, string Headers, string Body);

    public static Response Send(Uri server, string method, string target, string? host = null)
    {
        using var client = new TcpClient();
        client.Connect(server.Host.Trim('[', ']'), server.Port);
        using var stream = client.GetStream();
        stream.ReadTimeout = 10_000;
        string request = $"{method} {target} HTTP/1.1\r\nHost: {host ?? server.Authority}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
        stream.Write(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string text = reader.ReadToEnd();
        int split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        string head = split < 0 ? text : text[..split];
        int status = int.Parse(head.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        return new Response(status, head, split < 0 ? "" : text[(split + 4)..]);
    }
}
