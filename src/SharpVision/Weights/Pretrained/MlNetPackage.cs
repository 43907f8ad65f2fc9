namespace SharpVision.Weights.Pretrained;

/// <summary>
/// Where the ONNX files of the NuGet package <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> are found.
/// SharpVision references the package with build assets only: its own props file copies
/// <c>tools/DnnImageModels/**</c> to <c>DnnImageModels/</c> in the output folder of every project that builds
/// against SharpVision (and a published tool carries them too), so the program is self-contained. When the
/// program runs from elsewhere (e.g. a host that did not copy content), the NuGet global packages folder is
/// tried next.
/// </summary>
public static class MlNetPackage
{
    /// <summary>NuGet package id.</summary>
    public const string PackageId = "Microsoft.ML.DnnImageFeaturizer.ResNet18";

    /// <summary>Package version SharpVision references.</summary>
    public const string Version = "0.23.1";

    /// <summary>The network (CNTK export, opset 8): input [1, 3, 224, 224] BGR minus mean image, output [1, 512, 1, 1].</summary>
    public const string NetworkFile = "ResNet18Onnx/ResNet18.onnx";

    /// <summary>The preprocessing model: planar RGB 0..255 [1, 3, 224, 224] -> BGR minus the mean image.</summary>
    public const string PreprocessFile = "ResNetPrepOnnx/ResNetPreprocess.onnx";

    /// <summary>Folders holding <c>ResNet18Onnx/</c> and <c>ResNetPrepOnnx/</c>, in search order.</summary>
    public static IReadOnlyList<string> DefaultSearchFolders()
    {
        var folders = new List<string> { Path.Combine(AppContext.BaseDirectory, "DnnImageModels") };
        string? packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (string.IsNullOrWhiteSpace(packages))
        {
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            if (!string.IsNullOrEmpty(home)) packages = Path.Combine(home, ".nuget", "packages");
        }
        if (!string.IsNullOrWhiteSpace(packages))
            folders.Add(Path.Combine(packages, PackageId.ToLowerInvariant(), Version, "tools", "DnnImageModels"));
        return folders;
    }

    /// <summary>Full path of <paramref name="relativePath"/> (e.g. <see cref="NetworkFile"/>) in the default folders.</summary>
    /// <exception cref="ModelFileException">Found in none of them; the message lists every path looked at.</exception>
    public static string Locate(string relativePath) => Locate(relativePath, DefaultSearchFolders());

    /// <summary>Full path of <paramref name="relativePath"/> in the first of <paramref name="folders"/> that has it.</summary>
    /// <exception cref="ModelFileException">Found in none of them; the message lists every path looked at.</exception>
    public static string Locate(string relativePath, IReadOnlyList<string> folders)
    {
        var tried = new List<string>(folders.Count);
        foreach (string folder in folders)
        {
            string path = Path.GetFullPath(Path.Combine(folder, relativePath));
            if (File.Exists(path)) return path;
            tried.Add(path);
        }
        throw new ModelFileException(
            $"the ImageNet ResNet-18 file {relativePath} was not found (looked for {string.Join(", ", tried)}). " +
            $"It comes with the NuGet package {PackageId} {Version}, which SharpVision references: " +
            "restore and build again so that DnnImageModels/ is copied next to the program.");
    }
}
