using System.CommandLine;
using SharpVision.Data.Detection;
using SharpVision.Models;
using SharpVision.Weights;
using SharpVision.Weights.Keras;

namespace SharpVision.Cli.Commands;

/// <summary>
/// <c>sharpvision import keras MODEL.h5 --out model.svmodel</c> and
/// <c>sharpvision import keras-yolo3 yolo.h5 --anchors A --classes C --out model.svmodel</c>: Keras files to model files.
/// </summary>
public static class ImportCommand
{
    public static Command Create()
    {
        var command = new Command("import", "Convert a model trained elsewhere (Keras .h5) into a .svmodel for predict, evaluate and train --weights.");
        command.Add(Keras());
        command.Add(KerasYolo3());
        return command;
    }

    private static Command Keras()
    {
        var command = new Command("keras", """
            Import a Keras 2 Sequential classifier saved with model.save (e.g. cats_and_dogs_small_2.h5).
            Layers: Conv2D (relu, sigmoid, softmax, tanh, elu, linear; valid or same), MaxPooling2D, AveragePooling2D,
            GlobalAveragePooling2D, Flatten, Dropout, Dense, BatchNormalization, Activation. The file's model_config gives
            the architecture and input size; channels-last weights are transposed (and the Dense after Flatten permuted)
            for SharpVision's channels-first layers. Preprocessing: rescale 1/255, as the Keras tutorials'
            ImageDataGenerator. The final sigmoid/softmax is applied at inference, so probabilities equal Keras'.
            A one-unit sigmoid model is binary: its unit is the probability of the second class name.
            """);
        var modelArg = Flags.Positional("MODEL", "the Keras .h5 written by model.save");
        var outOption = new Option<string>("--out") { Description = "the .svmodel to write", HelpName = "FILE", Required = true };
        var classesOption = Flags.ExistingPath("--classes",
            "class names: a file with one per line, or the training folder (its subfolders, sorted, as flow_from_directory's class_indices); default class0, class1, ...",
            "FILE|DIR");
        var yamlOption = Flags.Text("--yaml", "also write the layers as a YAML definition, for `train DATA --model FILE.yaml --weights model.svmodel`", "FILE");
        command.Add(modelArg);
        command.Add(outOption);
        command.Add(classesOption);
        command.Add(yamlOption);
        command.SetAction(parse => RunKeras(parse.GetValue(modelArg)!, parse.GetValue(outOption)!, parse.GetValue(classesOption), parse.GetValue(yamlOption)));
        return command;
    }

    private static Command KerasYolo3()
    {
        var command = new Command("keras-yolo3", """
            Import a keras-yolo3 detector (yolo.h5 or trained_weights_final.h5) as a .svmodel.
            Reads either file qqwweee/keras-yolo3 writes: model.save (convert.py's yolo.h5) or model.save_weights
            (train.py's trained_weights_final.h5). 9 anchors give yolov3, 6 give yolov3-tiny (anchor masks as
            keras-yolo3's yolo_eval: tiny uses [3,4,5] and [1,2,3]). Convolutions are matched by creation order
            (conv2d_N sorted by N), kernels transposed, BatchNormalization's epsilon (1e-3, or the layer's own from
            model_config) kept exactly.
            The result runs with `detect predict` and `detect evaluate`, and seeds `detect train --weights`.
            """);
        var modelArg = Flags.Positional("MODEL", "keras-yolo3's .h5 (model.save or model.save_weights)");
        var anchorsOption = new Option<string>("--anchors") { Description = "keras-yolo3's anchors file (yolo_anchors.txt: w,h, w,h, ...)", HelpName = "FILE", Required = true };
        var classesOption = new Option<string>("--classes") { Description = "class names, one per line (coco_classes.txt)", HelpName = "FILE", Required = true };
        var outOption = new Option<string>("--out") { Description = "the .svmodel to write", HelpName = "FILE", Required = true };
        var sizeOption = Flags.Int("--size", "network input side in pixels, a multiple of 32 (keras-yolo3's model_image_size)", 416, 32, 8192);
        command.Add(modelArg);
        foreach (var option in new Option[] { anchorsOption, classesOption, outOption, sizeOption })
            command.Add(option);
        command.SetAction(parse => RunKerasYolo3(parse.GetValue(modelArg)!, parse.GetValue(anchorsOption)!, parse.GetValue(classesOption)!,
            parse.GetValue(outOption)!, parse.GetValue(sizeOption)));
        return command;
    }

    private static int RunKeras(string model, string output, string? classes, string? yaml)
    {
        IReadOnlyList<string>? names = classes is null ? null
            : Directory.Exists(classes)
                ? Directory.GetDirectories(classes).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList()!
                : ClassList.Read(classes);
        var result = KerasSequentialImporter.Import(model, names);
        using (result.Model)
            ModelFile.Save(output, result.Model, result.Config);
        var spec = result.Model.Spec;
        Console.WriteLine($"Imported {model}: Keras Sequential, {spec.Layers.Length} layers, input {spec.InputSize}x{spec.InputSize}x{spec.Channels}, "
            + $"{result.Config.Classes.Count} classes ({string.Join(", ", result.Config.Classes)}) -> {output}");
        if (yaml is not null)
        {
            AtomicFile.WriteAllText(yaml, ModelYaml.ToYaml(spec));
            Console.WriteLine($"Wrote the layer definition to {yaml}");
        }
        foreach (string note in result.Notes) Console.WriteLine($"note: {note}");
        return 0;
    }

    private static int RunKerasYolo3(string model, string anchors, string classes, string output, int size)
    {
        var result = KerasYolo3Importer.Import(model, anchors, classes, size);
        using (result.Model)
            ModelFile.Save(output, result.Model, result.Config);
        Console.WriteLine($"Imported {model} ({(result.FullModel ? "model.save" : "model.save_weights")} file): keras-yolo3 {result.Variant}, "
            + $"{result.Convolutions} convolutions, {result.Config.NumClasses} classes, input {size}x{size} -> {output}");
        return 0;
    }
}
