using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using SharpVision.Cli.Commands;

namespace SharpVision.Cli;

/// <summary>
/// The <c>sharpvision</c> command, parsed by System.CommandLine. Each command lives in its own file under Commands/
/// and stays thin: it declares its options once (help text and default together) and maps the parsed values to the
/// library's option records. Errors are caught here: one clear line (the full trace with <c>--verbose</c>) and a
/// non-zero exit code: 2 for no or an unknown command, 1 for anything else. Commands that run long loops stop
/// cleanly on the first Ctrl+C or SIGTERM (<see cref="Interrupts"/>; System.CommandLine's own signal handling is
/// off): exit code 130 (SIGINT) or 143 (SIGTERM), with what was kept and how to resume.
/// </summary>
public static class Program
{
    private const string Description = """
        sharpvision: train and run image models on libtorch, the Keras way.

        MODEL is a .svmodel file or a run folder (its weights/best.svmodel is used).
        Add --verbose to any command for full error traces; --help for a command's options.
        """;

    public static int Main(string[] args)
    {
        var root = CreateRoot();
        var invocation = new InvocationConfiguration
        {
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null, // Ctrl+C and SIGTERM are Interrupts' business
            Output = Console.Out,
            Error = Console.Error,
        };
        if (args.Length == 0)
        {
            root.Parse(["--help"]).Invoke(invocation);
            return 2;
        }
        if (args is ["help"]) args = ["--help"];
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null, EnablePosixBundling = false });
        bool verbose = args.Contains("--verbose");
        if (parse.Errors.Count > 0 && parse.Action is not HelpWithSummaries)
        {
            var (message, code) = ParseErrors.Describe(parse);
            Console.Error.WriteLine($"error: {message}");
            return code;
        }
        string command = ParseErrors.Path(parse.CommandResult.Command);
        // --help, --version and the [suggest] directive print and leave: no libtorch, no note, no signal handlers.
        bool help = parse.Action != parse.CommandResult.Command.Action;
        try
        {
            // libtorch made right for this CPU before anything runs; training commands say what was changed and why
            // (others stay quiet: their stderr is one error line and their stdout may be JSON; doctor prints it too).
            if (!help) Platform.TorchRuntime.Initialize();
            bool training = command is "train" or "demo" or "demo detect" or "lr-find" or "detect train";
            if (training && Platform.TorchRuntime.Note.Length > 0 && !help)
                Console.WriteLine($"note: {Platform.TorchRuntime.Note}");
            if (Interrupts.Cancellable(command) && !help)
                Interrupts.Listen(command);
            return parse.Invoke(invocation);
        }
        catch (OperationCanceledException e) when (Interrupts.Received)
        {
            Console.Out.Flush();
            Console.Error.WriteLine(Interrupts.Describe(e, command));
            if (verbose) Console.Error.WriteLine(e);
            return Interrupts.ExitCode;
        }
        catch (TypeInitializationException e) when (Platform.TorchRuntime.LibTorchError is { } libtorch && !verbose)
        {
            // libtorch's native libraries are missing: every TorchSharp call fails; .onnx models still run.
            Console.Error.WriteLine($"error: '{command}' needs libtorch, which cannot be loaded ({libtorch}); an exported .onnx model runs without it ({e.Message})");
            return 1;
        }
        catch (Exception e) when (e is SharpVisionException || e is IOException || e is UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: {OptionFlags.Translate(e.Message)}");
            if (verbose) Console.Error.WriteLine(e);
            return 1;
        }
        catch (Exception e) when (!verbose)
        {
            Console.Error.WriteLine($"error: {e.GetType().Name}: {e.Message} (run with --verbose for the full trace)");
            return 1;
        }
    }

    /// <summary>Every command, with <c>--verbose</c> on all of them and the <c>[suggest]</c> completion directive.</summary>
    public static RootCommand CreateRoot()
    {
        var root = new RootCommand(Description)
        {
            TrainCommand.Create(),
            EvaluateCommand.Create(),
            PredictCommand.Create(),
            SummaryCommand.Create(),
            ExportCommand.Create(),
            DemoCommand.Create(),
            DatasetsCommand.Create(),
            AugmentPreviewCommand.Create(),
            PlotCommand.Create(),
            ConvertCommand.Create(),
            AnchorsCommand.Create(),
            DetectCommand.Create(),
            MapCommand.Create(),
            LrFindCommand.Create(),
            FeaturesCommand.Create(),
            DoctorCommand.Create(),
            DashboardCommand.Create(),
            ImportCommand.Create(),
        };
        root.Add(new Option<bool>("--verbose") { Description = "print the full trace of an error", Recursive = true });
        foreach (var option in root.Options)
            if (option is VersionOption version)
                version.Action = new VersionAction();
        foreach (var option in root.Options.OfType<HelpOption>())
            if (option.Action is HelpAction standard)
                option.Action = new HelpWithSummaries(standard);
        return root;
    }

    private static IEnumerable<Command> All(Command command) =>
        command.Subcommands.SelectMany(c => All(c).Prepend(c));

    /// <summary>
    /// System.CommandLine's help, except for a group of commands (sharpvision, detect, datasets): there each command is
    /// listed by the first line of its description, the rest being in the command's own --help.
    /// </summary>
    internal sealed class HelpWithSummaries(HelpAction standard) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            var command = parseResult.CommandResult.Command;
            if (command.Subcommands.Count == 0 || command.Options.Any(o => o is not HelpOption and not VersionOption && !o.Recursive))
                return standard.Invoke(parseResult);
            var output = parseResult.InvocationConfiguration.Output;
            string path = ParseErrors.Path(command);
            output.WriteLine((command.Description ?? "").TrimEnd());
            output.WriteLine();
            output.WriteLine("Usage:");
            output.WriteLine($"  {string.Join(' ', new[] { "sharpvision", path }.Where(p => p.Length > 0))} COMMAND [options]");
            output.WriteLine();
            output.WriteLine("Commands:");
            int width = command.Subcommands.Max(c => c.Name.Length) + 2;
            foreach (var sub in command.Subcommands)
                output.WriteLine($"  {sub.Name.PadRight(width)}{sub.Description?.Split('\n')[0].Trim()}");
            output.WriteLine();
            output.WriteLine("Options:");
            output.WriteLine($"  {"-h, --help".PadRight(14)}show help and usage information (for a command: sharpvision {(path.Length > 0 ? path + " " : "")}COMMAND --help)");
            output.WriteLine($"  {"--verbose".PadRight(14)}print the full trace of an error");
            if (command is RootCommand) output.WriteLine($"  {"--version".PadRight(14)}print the version");
            output.WriteLine();
            output.WriteLine("Completion: `dotnet-suggest` completes commands, options and choices (System.CommandLine's [suggest] directive).");
            return 0;
        }
    }

    /// <summary><c>--version</c>: the assembly version, as before System.CommandLine.</summary>
    private sealed class VersionAction : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(typeof(Program).Assembly.GetName().Version);
            return 0;
        }
    }
}
