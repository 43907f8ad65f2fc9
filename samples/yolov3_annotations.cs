#:project ../src/SharpVision/SharpVision.csproj
#:property PublishAot=false
// Tutorials 000/001: YOLOv3 trained on keras-yolo3 annotation lines (`path x1,y1,x2,y2,class ...`, e.g. the raccoon set),
// first with the backbone frozen then every layer (train.py's two stages), scored by mAP on the validation lines.
//   dotnet run samples/yolov3_annotations.cs -- data/raccoon [--model yolov3] [--frozen 50] [--unfrozen 50] [--img-size 416]
//     [--pretrained darknet53.conv.74]
// DATA holds train.txt, val.txt and classes.txt (one class name a line).
using System.Globalization;
using SharpVision.Api;

string data = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "data/raccoon";
string? Text(string name) => Array.IndexOf(args, name) is var i and >= 0 ? args[i + 1] : null;
int Option(string name, int fallback) => Text(name) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;
string val = Path.Combine(data, "val.txt");

var run = Detector.Train(Path.Combine(data, "train.txt"), new DetectorTrainOptions
{
    Val = val,
    Classes = Path.Combine(data, "classes.txt"),
    Model = Text("--model") ?? "yolov3",
    Pretrained = Text("--pretrained"),   // Darknet weights for the backbone, as convert.py made them for keras-yolo3
    FineTune = (Option("--frozen", 50), Option("--unfrozen", 50)),
    ImgSize = Option("--img-size", 416),
    Batch = 8,
    Lr = 1e-3,
}, new TrainEvents { Message = Console.WriteLine });
Console.WriteLine($"curves: {Path.Combine(run.RunDir, "curves.png")}");

using var detector = Detector.Load(run.BestPath);
var report = detector.Evaluate(val);
Console.WriteLine(report.ToText());
Console.WriteLine(FormattableString.Invariant($"mAP50: {report.Coco.AP50:0.0000}  VOC07 mAP: {report.Voc.Map07:0.0000}  model: {run.BestPath}"));
