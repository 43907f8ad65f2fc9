using SharpVision.Cli.Commands;

namespace SharpVision.Cli;

/// <summary>
/// The <c>sharpvision</c> command. Each command lives in its own file under Commands/ and stays thin: it
/// reads its arguments and calls the library. Errors are caught here: one clear line (the full trace with
/// <c>--verbose</c>) and a non-zero exit code. Commands that run long loops stop cleanly on the first Ctrl+C or
/// SIGTERM (<see cref="Interrupts"/>): exit code 130 (SIGINT) or 143 (SIGTERM), with what was kept and how to resume.
/// </summary>
public static class Program
{
    private static readonly Dictionary<string, Func<string[], int>> Commands = new(StringComparer.Ordinal)
    {
        ["train"] = TrainCommand.Run,
        ["evaluate"] = EvaluateCommand.Run,
        ["predict"] = PredictCommand.Run,
        ["summary"] = SummaryCommand.Run,
        ["export"] = ExportCommand.Run,
        ["demo"] = DemoCommand.Run,
        ["datasets"] = DatasetsCommand.Run,
        ["augment-preview"] = AugmentPreviewCommand.Run,
        ["plot"] = PlotCommand.Run,
        ["convert"] = ConvertCommand.Run,
        ["anchors"] = AnchorsCommand.Run,
        ["detect"] = DetectCommand.Run,
        ["map"] = MapCommand.Run,
        ["lr-find"] = LrFindCommand.Run,
        ["features"] = FeaturesCommand.Run,
        ["doctor"] = DoctorCommand.Run,
    };

    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        if (args[0] == "--version")
        {
            Console.WriteLine(typeof(Program).Assembly.GetName().Version);
            return 0;
        }
        bool verbose = args.Contains("--verbose");
        if (!Commands.TryGetValue(args[0], out var command))
        {
            Console.Error.WriteLine($"error: command must be one of {string.Join(", ", Commands.Keys)}. Received: {args[0]}");
            return 2;
        }
        try
        {
            // libtorch made right for this CPU before anything runs; training commands say what was changed and why
            // (others stay quiet: their stderr is one error line and their stdout may be JSON; doctor prints it too).
            Platform.TorchRuntime.Initialize();
            bool training = args[0] is "train" or "demo" or "lr-find" || (args[0] == "detect" && args.Length > 1 && args[1] == "train");
            if (training && Platform.TorchRuntime.Note.Length > 0 && !args.Contains("--help"))
                Console.WriteLine($"note: {Platform.TorchRuntime.Note}");
            if (Interrupts.Cancellable(args))
                Interrupts.Listen();
            return command(args[1..]);
        }
        catch (OperationCanceledException e) when (Interrupts.Received)
        {
            Console.Out.Flush();
            Console.Error.WriteLine(Interrupts.Describe(e, args));
            if (verbose) Console.Error.WriteLine(e);
            return Interrupts.ExitCode;
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

    public const string Usage = """
        sharpvision: train and run image models on libtorch, the Keras way.

        Commands:
          train DATA [--val DIR | --val-split F] [--layout folders|filenames|csv] [--model NAME|FILE.yaml]
                [--img-size N] [--batch N] [--epochs N] [--lr F] [--optimizer NAME] [--augment K=V,...|FILE.yaml]
                [--patience N] [--seed N] [--workers N] [--device D] [--out DIR]
                [--pretrained imagenet|FILE.pth] [--freeze N|backbone] [--fine-tune E1,E2 [--unfreeze-top K]]
                [--cache-augmented K] [--feature-cache auto|off]
          lr-find DATA --model NAME [train options] [--start-lr F] [--end-lr F] [--steps N] [--plot FILE.png]
          features MODEL DATA --out FILE.csv|FILE.npy [--layout ...] [--batch N]
          evaluate MODEL DATA [--layout folders|filenames|csv] [--out DIR] [--top-losses N] [--json]
          predict MODEL PATH... [--out preds.csv] [--top-k K] [--probabilities] [--grid FILE.png]
                [--submission kaggle-dogs-vs-cats | --id-from-filename]
          plot RUN [--out FILE.png]
          map --gt GT --dt DT [--classes classes.txt] [--out DIR] [--json]
          summary MODEL|ARCH [--img-size N] [--num-classes K] [--freeze N|backbone]
          export MODEL --format onnx|pt|safetensors [--out FILE]
          datasets export digits --out DIR
          datasets make-shapes --out DIR [--images N] [--seed N] [--img-size 320] [--val-fraction 0.2]
          convert voc VOC_DIR --classes classes.txt --out train.txt [--sets train,val]
          convert lines|voc|yolo|coco INPUT --to lines|voc|coco|yolo --out PATH [--classes FILE]
          detect check DATA [--classes FILE]
          anchors DATA [--clusters 9] [--img-size 416] [--out yolo_anchors.txt]
          augment-preview DATA --augment K=V,... [--out grid.png]
          demo [--out DIR]
          doctor [--numerics]        versions, CPU, workarounds in force, and a 10-second self-test

        MODEL is a .svmodel file or a run folder (its weights/best.svmodel is used).
        Add --verbose to any command for full error traces; --help for a command's options.
        """;
}
