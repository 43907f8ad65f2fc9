using System.Globalization;

namespace SharpVision.Bench;

/// <summary>This process's counters from Linux's /proc/self (status: memory; stat: page faults); NaN or 0 elsewhere.</summary>
public static class ProcSelf
{
    /// <summary>A line of /proc/self/status in MB (kB there), e.g. "VmRSS:" or "VmHWM:"; NaN off Linux.</summary>
    public static double StatusMb(string key = "VmRSS:")
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return double.NaN;
        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
        return line is null ? double.NaN : double.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
    }

    /// <summary>Minor page faults so far (/proc/self/stat field 10), 0 off Linux.</summary>
    public static long MinorFaults()
    {
        const string stat = "/proc/self/stat";
        if (!File.Exists(stat)) return 0;
        string text = File.ReadAllText(stat);
        // Fields after the ")" that closes the command name: state is field 3, minflt field 10.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[7], CultureInfo.InvariantCulture);
    }
}
