using System.Diagnostics;
using Mono.Cecil;
using SharpVision.Build.TorchSharpKeepAlive;

// Usage: TorchSharpKeepAlive <TorchSharp.dll from the package> <rewritten TorchSharp.dll to write>
// Run by build/TorchSharpKeepAlive.targets; see KeepAliveRewriter for what and why.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: TorchSharpKeepAlive <input TorchSharp.dll> <output TorchSharp.dll>");
    return 2;
}
string input = Path.GetFullPath(args[0]), output = Path.GetFullPath(args[1]);
var clock = Stopwatch.StartNew();
try
{
    Directory.CreateDirectory(Path.GetDirectoryName(output)!);
    // Written next to the destination, then moved: a build interrupted mid-write leaves no half file that the
    // next build would take as up to date.
    string partial = output + ".partial";
    using (var resolver = new DefaultAssemblyResolver())
    {
        resolver.AddSearchDirectory(Path.GetDirectoryName(input)!);
        using var module = ModuleDefinition.ReadModule(input, new ReaderParameters { AssemblyResolver = resolver });
        if (module.Assembly is not null && KeepAliveRewriter.IsRewritten(module.Assembly))
        {
            File.Copy(input, partial, overwrite: true);
            Console.WriteLine($"TorchSharpKeepAlive: {input} is already rewritten; copied as is.");
        }
        else
        {
            var stats = KeepAliveRewriter.Rewrite(module);
            // The strong-name signature no longer matches the bytes; .NET (Core) never checks it, and the public
            // key stays, so the assembly's identity and every reference to it are unchanged.
            module.Attributes &= ~ModuleAttributes.StrongNameSigned;
            module.Write(partial, new WriterParameters { DeterministicMvid = true });
            Console.WriteLine($"TorchSharpKeepAlive: {stats.MethodsRewritten} methods, {stats.KeepAlivesInserted} kept references "
                + $"({stats.TemporariesCaptured} temporaries captured, {stats.TailCallsRemoved} tail calls removed) in "
                + $"{clock.ElapsedMilliseconds} ms -> {output}");
        }
    }
    File.Move(partial, output, overwrite: true);
    return 0;
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException or BadImageFormatException or InvalidOperationException)
{
    Console.Error.WriteLine($"error TSKA001: TorchSharpKeepAlive could not rewrite {input}: {e.Message}");
    return 1;
}
