using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SharpVision.Data.Detection;
using SharpVision.Imaging;
using SharpVision.Imaging.Video;
using SharpVision.Tests.Data;
using SharpVision.Tests.TestSupport;

namespace SharpVision.Tests.Cli;

/// <summary>
/// <c>detect predict</c> and <c>predict</c> on videos, as users type them: a 3-second clip generated here with ffmpeg
/// goes through end to end; the annotated video is read back with ffprobe and the JSON lines are checked against the
/// same frames run as images (frames extracted from the clip by ffmpeg, so the pixels are the same).
/// </summary>
[Collection("Console")]
public sealed class VideoPredictTests(CliFixture fx)
{
    private const int Fps = 10, Seconds = 3;

    // A quarter-width tiny YOLOv3 trained briefly on 64 px shapes, and a 3 s clip made of the same kind of images.
    private static readonly Lazy<(string Root, string Run, string Clip)> Detection = new(() =>
    {
        string root = Path.Combine(Path.GetTempPath(), "sv-video-" + Guid.NewGuid().ToString("N"));
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        };
        var train = ShapesDataset.Generate(Path.Combine(root, "train"), 16, seed: 5, size: 64, valFraction: .25);
        string run = Path.Combine(root, "run");
        var r = Cli.Run("detect", "train", train.TrainFile, "--val", train.ValFile, "--classes", train.ClassesFile, "--model", "yolov3-tiny-quarter",
            "--img-size", "64", "--epochs", "3", "--batch", "4", "--workers", "0", "--out", run);
        Assert.True(r.ExitCode == 0, r.Error + r.Out);
        ShapesDataset.Generate(Path.Combine(root, "clipframes"), Fps * Seconds, seed: 9, size: 64, valFraction: 0);
        string clip = Path.Combine(root, "clip.mp4");
        FfmpegRun("-framerate", $"{Fps}", "-pattern_type", "glob", "-i", Path.Combine(root, "clipframes", "JPEGImages", "*.jpg"), "-pix_fmt", "yuv420p", clip);
        return (root, run, clip);
    });

    [FfmpegFact]
    public void Detect_predict_on_a_3_second_clip_writes_every_frame_annotated_and_one_json_line_per_frame()
    {
        // Given a trained detector and a generated 3-second clip (30 frames)
        var (root, run, clip) = Detection.Value;
        Assert.Equal(Fps * Seconds, CountFrames(clip));
        string outDir = Path.Combine(root, "out-" + Guid.NewGuid().ToString("N"));

        // When detect predict runs on it as a user types it
        var r = Cli.Run("detect", "predict", run, clip, "--out", Path.Combine(outDir, "annotated.mp4"), "--conf", "0.005");

        // Then the annotated video is an H.264 file ffprobe reads with the same frame count and size
        Assert.True(r.ExitCode == 0, r.Error + r.Out);
        Assert.Contains("30 frames (30 through the model)", r.Out);
        string annotated = Path.Combine(outDir, "annotated.mp4");
        Assert.Equal(Fps * Seconds, CountFrames(annotated));
        Assert.Equal("h264,64,64", Probe(annotated, "stream=codec_name,width,height"));
        Assert.Empty(Directory.GetFiles(outDir, ".*")); // no temporary file left
        // and detections.jsonl has one line per frame, in order, with its time
        var lines = ReadLines(Path.Combine(outDir, "detections.jsonl"));
        Assert.Equal(Fps * Seconds, lines.Count);
        for (int i = 0; i < lines.Count; i++)
        {
            Assert.Equal(i, lines[i].GetProperty("frame").GetInt32());
            Assert.Equal(i / (double)Fps, lines[i].GetProperty("time").GetDouble(), 4);
        }

        // And its boxes are the ones detect predict finds on the same frames as images
        string frames = ExtractFrames(clip, Path.Combine(outDir, "frames"));
        var images = Cli.Run("detect", "predict", run, frames, "--conf", "0.005", "--out", Path.Combine(outDir, "images"));
        Assert.True(images.ExitCode == 0, images.Error);
        var expected = File.ReadAllLines(Path.Combine(outDir, "images", "detections.txt"));
        Assert.Equal(lines.Count, expected.Length);
        int boxes = 0;
        for (int i = 0; i < lines.Count; i++)
        {
            var want = expected[i].Split(' ').Skip(1).Select(b => b.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToList();
            var got = lines[i].GetProperty("detections").EnumerateArray().ToList();
            Assert.True(want.Count == got.Count, $"frame {i}: {got.Count} boxes in the video run, {want.Count} on the image");
            for (int k = 0; k < got.Count; k++)
            {
                var box = got[k].GetProperty("box").EnumerateArray().Select(v => v.GetDouble()).ToArray();
                for (int c = 0; c < 4; c++) Assert.True(Math.Abs(box[c] - want[k][c]) < 0.02, $"frame {i} box {k}: {box[c]} vs {want[k][c]}");
                Assert.Equal((int)want[k][4], got[k].GetProperty("class_id").GetInt32());
                Assert.True(Math.Abs(got[k].GetProperty("score").GetDouble() - want[k][5]) < 1e-4);
            }
            boxes += got.Count;
        }
        Assert.True(boxes > 0, "the detector found nothing at all: the comparison would prove nothing");
    }

    [FfmpegFact]
    public void Detect_predict_with_stride_runs_every_third_frame_and_keeps_every_frame_in_the_video()
    {
        // Given the clip
        var (root, run, clip) = Detection.Value;
        string outDir = Path.Combine(root, "stride-" + Guid.NewGuid().ToString("N"));

        // When predicting every third frame into a folder
        var r = Cli.Run("detect", "predict", run, clip, "--stride", "3", "--out", outDir);

        // Then the video (named after the clip) keeps all 30 frames and the JSON lines name frames 0, 3, ..., 27
        Assert.True(r.ExitCode == 0, r.Error + r.Out);
        Assert.Equal(Fps * Seconds, CountFrames(Path.Combine(outDir, "clip.mp4")));
        var frames = ReadLines(Path.Combine(outDir, "detections.jsonl")).Select(l => l.GetProperty("frame").GetInt32()).ToList();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => 3 * i), frames);
    }

    [FfmpegFact]
    public void Predict_gives_each_frame_of_a_clip_the_top_classes_it_gives_the_same_frame_as_an_image()
    {
        // Given a clip of 30 colour-coded frames (cat, dog, fox in turn) and the three-class classifier
        using var dir = new TempDir();
        string pngs = Path.Combine(dir.Path, "src");
        Directory.CreateDirectory(pngs);
        for (int i = 0; i < Fps * Seconds; i++)
            ImageEncoder.SavePng(CliFixture.Image(i % 3, 500 + i, 64, 48), Path.Combine(pngs, $"{i:000}.png"));
        string clip = Path.Combine(dir.Path, "colours.mkv");
        FfmpegRun("-framerate", $"{Fps}", "-i", Path.Combine(pngs, "%03d.png"), "-c:v", "libx264", "-pix_fmt", "yuv420p", clip);

        // When predict runs on the clip with --top-k 2 and writes only JSON lines
        string jsonl = Path.Combine(dir.Path, "out", "frames.jsonl");
        var r = Cli.Run("predict", fx.ThreeClassModel, clip, "--top-k", "2", "--out", jsonl);

        // Then there is one line per frame with two classes, best first, matching predict on the same frames as images
        Assert.True(r.ExitCode == 0, r.Error + r.Out);
        Assert.False(File.Exists(Path.Combine(dir.Path, "out", "colours.mp4")), "--out FILE.jsonl writes no video");
        var lines = ReadLines(jsonl);
        Assert.Equal(Fps * Seconds, lines.Count);
        string frames = ExtractFrames(clip, Path.Combine(dir.Path, "frames"));
        string csv = Path.Combine(dir.Path, "frames.csv");
        var images = Cli.Run("predict", fx.ThreeClassModel, frames, "--top-k", "2", "--out", csv);
        Assert.True(images.ExitCode == 0, images.Error);
        var rows = File.ReadAllLines(csv).Skip(1).Select(l => l.Split(',')).OrderBy(f => f[0], StringComparer.Ordinal).ToList();
        Assert.Equal(lines.Count, rows.Count);
        int right = 0;
        for (int i = 0; i < lines.Count; i++)
        {
            var top = lines[i].GetProperty("top").EnumerateArray().ToList();
            Assert.Equal(2, top.Count);
            Assert.Equal(rows[i][1], top[0].GetProperty("class").GetString());
            Assert.Equal(rows[i][3], top[1].GetProperty("class").GetString());
            Assert.True(Math.Abs(top[0].GetProperty("score").GetDouble() - double.Parse(rows[i][2], CultureInfo.InvariantCulture)) < 2e-6, $"frame {i}");
            Assert.True(Math.Abs(top[1].GetProperty("score").GetDouble() - double.Parse(rows[i][4], CultureInfo.InvariantCulture)) < 2e-6, $"frame {i}");
            if (top[0].GetProperty("class").GetString() == new[] { "cat", "dog", "fox" }[i % 3]) right++;
        }
        // and the colours survive H.264: the model is right on most frames (it is not a constant answer)
        Assert.True(right >= 24, $"{right}/30 frames right");
    }

    [FfmpegFact]
    public void Stopping_a_live_source_with_sigterm_finishes_the_video_and_the_json_lines_it_has_so_far()
    {
        // Given a long generated stream (ffmpeg's lavfi testsrc, read like a camera through --source)
        var (root, run, _) = Detection.Value;
        string outDir = Path.Combine(root, "live-" + Guid.NewGuid().ToString("N"));
        string jsonl = Path.Combine(outDir, "detections.jsonl");
        // (10 minutes of frames: ends by itself should this test's process die and leave the child behind)
        using var p = CliProcess.Start("detect", "predict", run, "--source", "testsrc=size=96x64:rate=25:duration=600", "--source-format", "lavfi",
            "--stride", "2", "--out", Path.Combine(outDir, "live.mp4"));
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        try
        {
            CliProcess.WaitFor(p, () => File.Exists(jsonl) && LineCount(jsonl) >= 10, "10 JSON lines");
            // When the user stops it (SIGTERM; Ctrl+C takes the same path)
            CliProcess.Signal(p, 15);
            Assert.True(p.WaitForExit(TimeSpan.FromMinutes(1)), "it did not stop");
        }
        finally
        {
            CliProcess.KillHard(p);
        }

        // Then it exits 143 after finishing both files: every frame in the video, one line per second frame
        Assert.True(p.ExitCode == 143, $"exit {p.ExitCode}: {stderr.Result} {stdout.Result}");
        Assert.Contains("stopped by SIGTERM", stdout.Result);
        int frames = CountFrames(Path.Combine(outDir, "live.mp4"));
        var lines = ReadLines(jsonl);
        Assert.True(frames >= 19, $"{frames} frames");
        Assert.Equal((frames + 1) / 2, lines.Count);
        Assert.Equal(Enumerable.Range(0, lines.Count).Select(i => 2 * i), lines.Select(l => l.GetProperty("frame").GetInt32()));
    }

    [Fact]
    public void Without_ffmpeg_a_video_input_is_a_clear_error_that_says_how_to_install_it()
    {
        // Given ffmpeg pointed at a file that does not exist (as on a machine without it) and a video file
        using var dir = new TempDir();
        string clip = dir.Write("clip.mp4", "not decoded");
        string? old = Environment.GetEnvironmentVariable("SHARPVISION_FFMPEG");
        Environment.SetEnvironmentVariable("SHARPVISION_FFMPEG", Path.Combine(dir.Path, "no-ffmpeg"));
        try
        {
            // When predicting the video
            var r = Cli.Run("predict", fx.ThreeClassModel, clip);

            // Then one line names ffmpeg and the package, with no stack trace
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("needs ffmpeg, which was not found on PATH: install ffmpeg (Debian/Ubuntu: apt-get install ffmpeg", r.Error);
            Assert.DoesNotContain("   at ", r.Error);
        }
        finally
        {
            Environment.SetEnvironmentVariable("SHARPVISION_FFMPEG", old);
        }
    }

    [Fact]
    public void Video_options_with_images_and_two_videos_at_once_are_refused_by_name()
    {
        using var dir = new TempDir();
        string image = Path.Combine(dir.Path, "a.png");
        ImageEncoder.SavePng(CliFixture.Image(0, 1), image);
        var stride = Cli.Run("predict", fx.ThreeClassModel, image, "--stride", "2");
        Assert.Equal(1, stride.ExitCode);
        Assert.Contains("--stride applies to a video", stride.Error);
        var format = Cli.Run("predict", fx.ThreeClassModel, image, "--source-format", "v4l2");
        Assert.Contains("--source-format applies to --source", format.Error);
        string a = dir.Write("a.mp4"), b = dir.Write("b.mp4");
        var two = Cli.Run("predict", fx.ThreeClassModel, a, b);
        Assert.Contains("PATH must be image files and folders, or exactly one video", two.Error);
        var both = Cli.Run("predict", fx.ThreeClassModel, a, "--source", "/dev/video0");
        Assert.Contains("give PATH or --source, not both", both.Error);
        var none = Cli.Run("predict", fx.ThreeClassModel);
        Assert.Contains("'predict' needs at least one PATH (images, folders or a video) or --source", none.Error);
    }

    private static List<JsonElement> ReadLines(string path) =>
        File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    private static int LineCount(string path)
    {
        using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var r = new StreamReader(s);
        return r.ReadToEnd().Count(c => c == '\n');
    }

    private static string ExtractFrames(string clip, string dir)
    {
        Directory.CreateDirectory(dir);
        FfmpegRun("-i", clip, "-vsync", "0", Path.Combine(dir, "%03d.png"));
        return dir;
    }

    private static int CountFrames(string video) => int.Parse(Probe(video, "stream=nb_read_frames", count: true), CultureInfo.InvariantCulture);

    private static string Probe(string video, string entries, bool count = false)
    {
        var args = new List<string> { "-v", "error", "-select_streams", "v:0" };
        if (count) args.Add("-count_frames");
        args.AddRange(["-show_entries", entries, "-of", "csv=p=0", video]);
        return Tool(Ffmpeg.FindFfprobe()!, args).Trim();
    }

    private static void FfmpegRun(params string[] args) => Tool(Ffmpeg.FindFfmpeg()!, ["-v", "error", "-y", .. args]);

    private static string Tool(string exe, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var output = p.StandardOutput.ReadToEndAsync();
        string error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{exe} {string.Join(' ', info.ArgumentList)}: {error}");
        return output.Result;
    }
}

/// <summary>A test that needs ffmpeg and ffprobe (Debian's ffmpeg package); skipped with that reason without them.</summary>
public sealed class FfmpegFactAttribute : FactAttribute
{
    public FfmpegFactAttribute()
    {
        if (Ffmpeg.FindFfmpeg() is null || Ffmpeg.FindFfprobe() is null)
            Skip = "ffmpeg/ffprobe are not installed (Debian/Ubuntu: apt-get install ffmpeg): video input and output are not tested";
    }
}
