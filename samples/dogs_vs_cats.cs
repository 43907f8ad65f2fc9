#:project ../src/SharpVision/SharpVision.csproj
#:property PublishAot=false
// Tutorial 003: dogs vs cats with labels from the file names (train/cat.0.jpg, train/dog.0.jpg, ...), 20 % held out,
// EarlyStopping and ReduceLROnPlateau, augmentation, then a Kaggle submission (id,label = P(dog)) for test1/*.jpg.
//   dotnet run samples/dogs_vs_cats.cs -- data/dogs-vs-cats [--epochs 50] [--img-size 128]
using System.Globalization;
using SharpVision.Api;
using SharpVision.Evaluation;

string data = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "data/dogs-vs-cats";
int Option(string name, int fallback) => Array.IndexOf(args, name) is var i and >= 0 ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;

var run = Classifier.Train(Path.Combine(data, "train"), new ClassifierTrainOptions
{
    Layout = "filenames",          // the label is the name up to the first dot: cat.12.jpg -> cat
    ValSplit = 0.2,
    Model = "smallcnn",
    ImgSize = Option("--img-size", 128),
    Epochs = Option("--epochs", 50),
    Batch = 15,
    Monitor = "val_accuracy",
    Patience = 10,                 // EarlyStopping(patience=10)
    ReduceLrPatience = 2,          // ReduceLROnPlateau(patience=2, factor=0.5)
    ReduceLrFactor = 0.5,
    Augment = "rotation_range=15,shear_range=0.1,zoom_range=0.2,horizontal_flip=true,width_shift_range=0.1,height_shift_range=0.1",
}, new TrainEvents { Message = Console.WriteLine });
Console.WriteLine(FormattableString.Invariant($"val_accuracy: {run.History.Get("val_accuracy").Max():0.0000} ({run.History.Count} epochs, {run.StopReason ?? "all run"})"));

using var model = Classifier.Load(run.BestPath);
var predictions = model.Predict(Directory.GetFiles(Path.Combine(data, "test1")).Order(StringComparer.Ordinal));
var submission = Submission.Build(predictions.ToTable(), SubmissionFormat.KaggleDogsVsCats);
string csv = Path.Combine(run.RunDir, "submission.csv");
File.WriteAllText(csv, submission.ToCsv());
Console.WriteLine($"submission: {csv} ({submission.Rows.Count} rows)");
