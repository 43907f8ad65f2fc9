#:project ../src/SharpVision/SharpVision.csproj
#:property PublishAot=false
// Tutorial 002: transfer learning from an ImageNet ResNet: E1 epochs with the backbone frozen (a new head only),
// then E2 epochs fine-tuning every layer at lower rates. The ImageNet ResNet-18 comes offline from its NuGet package.
//   dotnet run samples/resnet_transfer.cs -- data/cifar4 [--frozen 3] [--unfrozen 3] [--img-size 224]
// DATA holds train/<class>/*.png and validation/<class>/ (flow_from_directory's layout); test/<class>/ is optional.
using System.Globalization;
using SharpVision.Api;

string data = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "data/cifar4";
int Option(string name, int fallback) => Array.IndexOf(args, name) is var i and >= 0 ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
string validation = Path.Combine(data, "validation"), test = Path.Combine(data, "test");

var run = Classifier.Train(Path.Combine(data, "train"), new ClassifierTrainOptions
{
    Model = "resnet18",
    Pretrained = "imagenet",
    FineTune = (Option("--frozen", 3), Option("--unfrozen", 3)),
    ImgSize = Option("--img-size", 224),
    Batch = 32,
    Val = validation,
    Augment = "rotation_range=20,width_shift_range=0.1,height_shift_range=0.1,zoom_range=0.1,horizontal_flip=true",
}, new TrainEvents { Message = Console.WriteLine });

foreach (var (epoch, logs) in run.History.Epochs.Zip(run.History.Logs))
    Console.WriteLine(FormattableString.Invariant($"epoch {epoch}: loss {logs["loss"]:0.0000}, val_accuracy {logs["val_accuracy"]:0.0000}"));
Console.WriteLine($"curves: {Path.Combine(run.RunDir, "curves.png")}");
using var model = Classifier.Load(run.BestPath);
var evaluation = model.Evaluate(Directory.Exists(test) ? test : validation);
Console.WriteLine(evaluation.Summary.ToText(4));
Console.WriteLine(FormattableString.Invariant($"test accuracy: {evaluation.Accuracy:0.0000}"));
