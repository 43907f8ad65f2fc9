using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SharpVision.Bench;

/// <summary>
/// PyTorch's side of <c>compare-pytorch</c>: a long-lived <c>bench/compare_pytorch.py</c> process that answers one
/// JSON request per line. It sits blocked on its stdin while our side runs, so the two never compete for the cores.
/// </summary>
public sealed class PyTorchWorker : IDisposable
{
    private readonly Process _process;

    private PyTorchWorker(Process process) => _process = process;

    /// <summary>
    /// Starts <paramref name="script"/> under <paramref name="python"/>; its stderr goes to ours. <paramref name="environment"/>
    /// adds variables (glibc reads MALLOC_* only at process start, so a tuned-malloc PyTorch is a second process).
    /// </summary>
    public static PyTorchWorker Start(string python, string script, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-u");
        info.ArgumentList.Add(script);
        // Python's own thread count is set by the init request; keep OpenMP from guessing differently first.
        info.Environment.Remove("OMP_NUM_THREADS");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        var process = Process.Start(info) ?? throw new SharpVisionException($"could not start {python} {script}");
        return new PyTorchWorker(process);
    }

    /// <summary>Sends one request and waits for its reply; a Python-side error becomes a <see cref="SharpVisionException"/>.</summary>
    public JsonObject Call(object request)
    {
        _process.StandardInput.WriteLine(JsonSerializer.Serialize(request));
        _process.StandardInput.Flush();
        string? line = _process.StandardOutput.ReadLine()
            ?? throw new SharpVisionException("compare_pytorch.py exited without replying (see its error above)");
        var reply = JsonNode.Parse(line)?.AsObject() ?? throw new SharpVisionException($"compare_pytorch.py replied {line}");
        if (reply["error"] is { } error)
            throw new SharpVisionException($"compare_pytorch.py: {error}");
        return reply;
    }

    /// <summary>Images per second of a timed reply (<c>images</c>, <c>seconds</c>).</summary>
    public double Rate(object request)
    {
        var reply = Call(request);
        return reply["images"]!.GetValue<double>() / reply["seconds"]!.GetValue<double>();
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.WriteLine("{\"op\": \"quit\"}");
                _process.StandardInput.Close();
                if (!_process.WaitForExit(10_000)) _process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            // Already gone: nothing to stop.
        }
        _process.Dispose();
    }
}
