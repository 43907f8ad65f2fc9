namespace SharpVision.Dashboard;

/// <summary>
/// The one gate between a request and the disk: a relative path that names something inside the runs folder, or null.
/// Refused: empty paths, absolute paths (<c>/etc/passwd</c>, <c>C:\</c>), any <c>..</c> or <c>.</c> segment (also
/// when percent-encoded: routing has decoded it by now), backslashes, NUL, and any symbolic link on the way, since a
/// link inside the folder can point anywhere outside it.
/// </summary>
internal static class SafePath
{
    /// <summary>The absolute path of <paramref name="relative"/> under <paramref name="root"/> (absolute, no trailing separator), or null when refused.</summary>
    public static string? Resolve(string root, string? relative)
    {
        if (string.IsNullOrEmpty(relative) || relative.Contains('\0') || relative.Contains('\\') || Path.IsPathRooted(relative) || relative.StartsWith('/'))
            return null;
        var segments = relative.Split('/');
        if (segments.Any(s => s is "" or "." or ".." || s.Contains(':'))) return null;
        string full = Path.GetFullPath(Path.Combine(root, Path.Combine(segments)));
        // Belt and braces: whatever the segments were, the result must lie below the root.
        if (!full.StartsWith(Path.TrimEndingDirectorySeparator(root) + Path.DirectorySeparatorChar, StringComparison.Ordinal)) return null;
        string current = root;
        foreach (var segment in segments)
        {
            current = Path.Combine(current, segment);
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (info.Exists && info.LinkTarget is not null) return null;
        }
        return full;
    }
}
