#:project ../src/SharpVision/SharpVision.csproj
#:property PublishAot=false
// Tutorial 004: a small convnet trained from scratch on a folder per class, with Keras-style augmentation and curves.
//   dotnet run samples/small_convnet.cs -- data/cats_and_dogs_small [--epochs 30] [--img-size 150] [--lr 1e-4]
// DATA holds train/<class>/*.jpg, optionally validation/<class>/ (else 20 % of train is held out) and test/<class>/.
using System.Globalization;
using SharpVision.Api;

string data = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "data/cats_and_dogs_small";
double Option(string name, double fallback) => Array.IndexOf(args, name) is var i and >= 0 ? double.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
string validation = Path.Combine(data, "validation"), test = Path.Combine(data, "test");

var run = Classifier.Train(Path.Combine(data, "train"), new ClassifierTrainOptions
{
    Model = "smallcnn",
    ImgSize = (int)Option("--img-size", 150),
    Epochs = (int)Option("--epochs", 30),
    Batch = 20,
    Optimizer = "rmsprop",
    Lr = Option("--lr", 1e-4),
    Schedule = "none",  // the tutorial's constant rate (train's default would be one cycle)
    Val = Directory.Exists(validation) ? validation : null,
    ValSplit = Directory.Exists(validation) ? null : 0.2,
    Augment = "rotation_range=40,width_shift_range=0.2,height_shift_range=0.2,shear_range=0.2,zoom_range=0.2,horizontal_flip=true",
}, new TrainEvents { Message = Console.WriteLine });

// Keras' history: one line per epoch; the same numbers are in results.csv and drawn in curves.png.
foreach (var (epoch, logs) in run.History.Epochs.Zip(run.History.Logs))
    Console.WriteLine(FormattableString.Invariant($"epoch {epoch}: loss {logs["loss"]:0.0000}, val_accuracy {logs["val_accuracy"]:0.0000}"));
Console.WriteLine($"curves: {Path.Combine(run.RunDir, "curves.png")}");
Console.WriteLine($"model: {run.BestPath}");
if (Directory.Exists(test))
{
    using var model = Classifier.Load(run.BestPath);
    Console.WriteLine(FormattableString.Invariant($"test accuracy: {model.Evaluate(test).Accuracy:0.0000}"));
}
