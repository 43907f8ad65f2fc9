using System.Buffers.Binary;
using System.Text;

namespace SharpVision.Weights;

/// <summary>
/// Walks a pickle's opcodes without running any of them and refuses the ones a state dict never needs.
/// A pickle is a small program: its GLOBAL / STACK_GLOBAL opcodes name any importable callable and REDUCE
/// calls it, which is how <c>torch.load</c> without <c>weights_only</c> ends up running <c>os.system</c>.
/// TorchSharp.PyBridge reads pickles with Razorvine.Pickle, which never imports Python code (an unknown
/// global becomes an inert "class dict" placeholder), but its constructor table is process-wide and
/// extensible, so we check first and give a clear error instead of relying on that: only the globals that
/// <c>torch.save(state_dict)</c> writes are allowed.
/// </summary>
public static class PickleGuard
{
    /// <summary>The callables <c>torch.save</c> emits for a state dict (or a checkpoint dict of them).</summary>
    public static readonly IReadOnlySet<string> AllowedGlobals = new HashSet<string>(StringComparer.Ordinal)
    {
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_parameter",
        "torch.DoubleStorage", "torch.FloatStorage", "torch.HalfStorage", "torch.BFloat16Storage",
        "torch.LongStorage", "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage",
        "torch.ByteStorage", "torch.BoolStorage", "torch.ComplexDoubleStorage", "torch.ComplexFloatStorage",
    };

    /// <summary>
    /// Throws <see cref="ModelFileException"/> naming the first opcode or global outside the allow-list,
    /// or when the pickle is truncated (no STOP) or malformed. Reads only; executes nothing.
    /// </summary>
    /// <param name="pickle">The whole pickle stream (a state dict's <c>data.pkl</c> is a few hundred KB).</param>
    /// <param name="origin">File name used in messages.</param>
    public static void Check(ReadOnlySpan<byte> pickle, string origin)
    {
        var memoStrings = new Dictionary<long, string>();
        var memoKeys = new HashSet<long>(); // every memo index in use: MEMOIZE stores under their count
        // The last values pushed, when they were strings (null = something else): STACK_GLOBAL takes its
        // module and name from the two most recent pushes, and pickle writes those right before it.
        string? previous = null, last = null;
        int pos = 0;
        while (true)
        {
            if (pos >= pickle.Length)
                throw new ModelFileException($"{origin}: the pickle ends without a STOP opcode (truncated or corrupt file).");
            int at = pos;
            byte op = pickle[pos++];
            string? pushedString = null;
            bool keepsStringState = false;
            switch (op)
            {
                // No argument.
                case (byte)'(': case (byte)'0': case (byte)'1': case (byte)'2': case (byte)'N': case (byte)'Q':
                case (byte)'R': case (byte)'a': case (byte)'b': case (byte)'d': case (byte)'}': case (byte)'e':
                case (byte)'l': case (byte)']': case (byte)'s': case (byte)'t': case (byte)')': case (byte)'u':
                case 0x81: case 0x85: case 0x86: case 0x87: case 0x88: case 0x89: case 0x8f: case 0x90: case 0x91:
                case 0x92:
                    break;
                case (byte)'.':
                    return;
                case 0x94: // MEMOIZE: stores the top of the stack under the next index
                    Remember(memoStrings, memoKeys, memoKeys.Count, last);
                    keepsStringState = true;
                    break;
                // Fixed-size arguments.
                case (byte)'K': case 0x80: Skip(pickle, ref pos, 1, origin); break;
                case (byte)'M': Skip(pickle, ref pos, 2, origin); break;
                case (byte)'J': Skip(pickle, ref pos, 4, origin); break;
                case (byte)'G': Skip(pickle, ref pos, 8, origin); break;
                case 0x95: Skip(pickle, ref pos, 8, origin); keepsStringState = true; break; // FRAME
                case (byte)'q': // BINPUT
                    Remember(memoStrings, memoKeys, Take(pickle, ref pos, 1, origin)[0], last);
                    keepsStringState = true;
                    break;
                case (byte)'r': // LONG_BINPUT
                    Remember(memoStrings, memoKeys, BinaryPrimitives.ReadUInt32LittleEndian(Take(pickle, ref pos, 4, origin)), last);
                    keepsStringState = true;
                    break;
                case (byte)'p': // PUT
                    if (long.TryParse(Line(pickle, ref pos, origin), out long putIndex)) Remember(memoStrings, memoKeys, putIndex, last);
                    keepsStringState = true;
                    break;
                case (byte)'h': // BINGET
                    memoStrings.TryGetValue(Take(pickle, ref pos, 1, origin)[0], out pushedString);
                    break;
                case (byte)'j': // LONG_BINGET
                    memoStrings.TryGetValue(BinaryPrimitives.ReadUInt32LittleEndian(Take(pickle, ref pos, 4, origin)), out pushedString);
                    break;
                case (byte)'g': // GET
                    if (long.TryParse(Line(pickle, ref pos, origin), out long getIndex)) memoStrings.TryGetValue(getIndex, out pushedString);
                    break;
                // Newline-terminated arguments.
                case (byte)'F': case (byte)'I': case (byte)'L': case (byte)'P': case (byte)'S':
                    Line(pickle, ref pos, origin);
                    break;
                case (byte)'V':
                    pushedString = Line(pickle, ref pos, origin);
                    break;
                // Length-prefixed strings and bytes.
                case (byte)'X': pushedString = Encoding.UTF8.GetString(Counted(pickle, ref pos, 4, origin)); break;
                case 0x8c: pushedString = Encoding.UTF8.GetString(Counted(pickle, ref pos, 1, origin)); break;
                case 0x8d: pushedString = Encoding.UTF8.GetString(Counted(pickle, ref pos, 8, origin)); break;
                case (byte)'U': case (byte)'C': case 0x8a: Counted(pickle, ref pos, 1, origin); break;
                case (byte)'T': case (byte)'B': case 0x8b: Counted(pickle, ref pos, 4, origin); break;
                case 0x8e: case 0x96: Counted(pickle, ref pos, 8, origin); break;
                case (byte)'c': // GLOBAL "module\nname\n"
                {
                    string module = Line(pickle, ref pos, origin);
                    string name = Line(pickle, ref pos, origin);
                    RequireAllowed(module, name, at, origin);
                    break;
                }
                case 0x93: // STACK_GLOBAL: module and name are the two previous pushes
                    if (previous is null || last is null)
                        throw new ModelFileException($"{origin}: refused to load: the pickle names a callable it computes at run time (STACK_GLOBAL at byte {at}); a state dict never does that.");
                    RequireAllowed(previous, last, at, origin);
                    break;
                case (byte)'i': case (byte)'o': case 0x82: case 0x83: case 0x84: case 0x97: case 0x98:
                    throw new ModelFileException($"{origin}: refused to load: the pickle uses opcode {Describe(op)} at byte {at}, which a state dict never needs (only tensors and dicts are read; no code from the file is run).");
                default:
                    throw new ModelFileException($"{origin}: not a valid pickle (unknown opcode 0x{op:x2} at byte {at}); the file is corrupt or not a PyTorch state dict.");
            }
            if (!keepsStringState)
            {
                previous = last;
                last = pushedString;
            }
        }
    }

    private static void RequireAllowed(string module, string name, int at, string origin)
    {
        string full = $"{module}.{name}";
        if (!AllowedGlobals.Contains(full))
            throw new ModelFileException(
                $"{origin}: refused to load: the pickle refers to '{full}' (byte {at}), which is not part of a PyTorch state dict. " +
                "Only tensors and dicts are read and no code from the file is run (a whole pickled model? save torch.save(model.state_dict(), path) instead); " +
                $"allowed: {string.Join(", ", AllowedGlobals.Where(g => !g.EndsWith("Storage", StringComparison.Ordinal)))} and torch.*Storage.");
    }

    private static string Describe(byte op) => op < 0x80 ? $"'{(char)op}'" : $"0x{op:x2}";

    private static void Remember(Dictionary<long, string> memo, HashSet<long> keys, long index, string? value)
    {
        keys.Add(index);
        if (value is null) memo.Remove(index);
        else memo[index] = value;
    }

    private static void Skip(ReadOnlySpan<byte> data, ref int pos, int count, string origin) => Take(data, ref pos, count, origin);

    private static ReadOnlySpan<byte> Take(ReadOnlySpan<byte> data, ref int pos, long count, string origin)
    {
        if (count < 0 || count > data.Length - pos)
            throw new ModelFileException($"{origin}: the pickle is truncated or corrupt (an opcode at byte {pos - 1} needs {count} more bytes).");
        var slice = data.Slice(pos, (int)count);
        pos += (int)count;
        return slice;
    }

    private static ReadOnlySpan<byte> Counted(ReadOnlySpan<byte> data, ref int pos, int lengthBytes, string origin)
    {
        var prefix = Take(data, ref pos, lengthBytes, origin);
        long length = lengthBytes switch
        {
            1 => prefix[0],
            4 => BinaryPrimitives.ReadUInt32LittleEndian(prefix),
            _ => BinaryPrimitives.ReadInt64LittleEndian(prefix),
        };
        return Take(data, ref pos, length, origin);
    }

    private static string Line(ReadOnlySpan<byte> data, ref int pos, string origin)
    {
        int end = data[pos..].IndexOf((byte)'\n');
        if (end < 0)
            throw new ModelFileException($"{origin}: the pickle is truncated or corrupt (unterminated text argument at byte {pos}).");
        string text = Encoding.UTF8.GetString(data.Slice(pos, end));
        pos += end + 1;
        return text;
    }
}
