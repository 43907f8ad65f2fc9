using SharpVision.Runs;

namespace SharpVision.Tests.Runs;

public class RunFolderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sv-runs-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Experiments_are_numbered_exp_exp2_exp3()
    {
        Assert.EndsWith("exp", RunFolder.NextExperiment(_root));
        Directory.CreateDirectory(Path.Combine(_root, "exp"));
        File.WriteAllText(Path.Combine(_root, "exp", "x"), "");
        Assert.EndsWith("exp2", RunFolder.NextExperiment(_root));
    }

    [Fact]
    public void Second_open_of_a_locked_run_is_refused_with_a_clear_message()
    {
        string path = Path.Combine(_root, "run");
        using var first = RunFolder.Open(path);

        var e = Assert.Throws<SharpVisionException>(() => RunFolder.Open(path, existOk: true));
        Assert.Contains("in use by another training run", e.Message);
    }

    [Fact]
    public void Non_empty_folder_needs_exist_ok_or_resume()
    {
        string path = Path.Combine(_root, "full");
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, "results.csv"), "epoch\n");

        var e = Assert.Throws<SharpVisionException>(() => RunFolder.Open(path));
        Assert.Contains("RunFolder.ExistOk", e.Message);
        using (RunFolder.Open(path, existOk: true)) { }
        using (RunFolder.Open(path, resume: true)) { }
    }

    [Fact]
    public void Run_folder_resolves_to_best_then_last()
    {
        string path = Path.Combine(_root, "r");
        Directory.CreateDirectory(Path.Combine(path, "weights"));
        Assert.Throws<ModelFileException>(() => RunFolder.ResolveModelPath(path));
        File.WriteAllText(Path.Combine(path, "weights", "last.svmodel"), "");
        Assert.EndsWith("last.svmodel", RunFolder.ResolveModelPath(path));
        File.WriteAllText(Path.Combine(path, "weights", "best.svmodel"), "");
        Assert.EndsWith("best.svmodel", RunFolder.ResolveModelPath(path));
    }
}
