using TorchSharp;

namespace SharpVision;

/// <summary>Turns a <c>--device</c> value into a libtorch device.</summary>
public static class Devices
{
    public const string Allowed = "one of auto, cpu, cuda, cuda:N";

    /// <summary>
    /// auto takes CUDA when TorchSharp reports it (a CUDA libtorch is referenced and a GPU is present), else CPU.
    /// Asking for CUDA where there is none is an error, not a silent fallback.
    /// </summary>
    public static torch.Device Resolve(string value)
    {
        string v = value.Trim().ToLowerInvariant();
        if (v == "auto")
            return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
        if (v == "cpu")
            return torch.CPU;
        if (v == "cuda" || v.StartsWith("cuda:", StringComparison.Ordinal))
        {
            int index = 0;
            if (v.Length > 4 && (!int.TryParse(v.AsSpan(5), out index) || index < 0))
                throw new InvalidOptionException("Devices.Device", Allowed, value);
            if (!torch.cuda.is_available())
                throw new SharpVisionException($"Devices.Device {value} asks for CUDA, but this libtorch build sees no CUDA device. Use Devices.Device cpu (or auto).");
            int count = torch.cuda.device_count();
            if (index >= count)
                throw new InvalidOptionException("Devices.Device", $"cuda:0 to cuda:{count - 1} on this machine", value);
            return new torch.Device(DeviceType.CUDA, index);
        }
        throw new InvalidOptionException("Devices.Device", Allowed, value);
    }
}
