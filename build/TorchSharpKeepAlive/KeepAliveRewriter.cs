using Mono.Cecil;
using Mono.Cecil.Cil;
using Mono.Cecil.Rocks;

namespace SharpVision.Build.TorchSharpKeepAlive;

/// <summary>What one rewrite changed.</summary>
public sealed record RewriteStats(int MethodsRewritten, int KeepAlivesInserted, int TemporariesCaptured, int TailCallsRemoved);

/// <summary>
/// Makes every <c>TorchSharp.Scalar</c> and <c>torch.Tensor</c> (and subclass, e.g. Parameter) that a TorchSharp
/// method sees outlive that method.
/// <para>
/// Why: TorchSharp 0.107 reads <c>scalar.Handle</c> / <c>tensor.Handle</c> and passes the bare pointer to libtorch;
/// from then on the JIT treats the wrapper as dead, so a collection during the native call lets the finalizer thread
/// free the c10::Scalar or the heap-allocated at::Tensor libtorch is reading. For a Scalar that is "Expected false to
/// be true" from Scalar::toDouble, or silent garbage; for a Tensor (<c>dst.copy_(src.to(dtype))</c> outside a dispose
/// scope) it is a segfault in <c>intrusive_ptr&lt;TensorImpl&gt;::retain_</c> on the freed at::Tensor's stale pointer.
/// In every method body that holds one, each parameter (and <c>this</c> in Scalar's and Tensor's own methods), each
/// local, and each one a call, newobj, field load or cast leaves on the stack (captured with <c>dup; stloc</c>) is
/// passed to <see cref="GC.KeepAlive"/> before every <c>ret</c>. The JIT must then report it as live up to the
/// return, so across every native call the method makes. Every native call that takes a handle sits in a method
/// that received the object as a parameter (or <c>this</c>) or made it, so a caller's temporary (<c>t / 2.0</c>, the
/// implicit alpha of <c>a + b</c>, the <c>src.to(dtype)</c> above) is covered by the callee.
/// Collections of them (<c>IList&lt;Tensor&gt;</c>, <c>Tensor[]</c>) are kept as a whole, which keeps their elements.
/// </para>
/// </summary>
public static class KeepAliveRewriter
{
    /// <summary>Key of the assembly-level AssemblyMetadataAttribute that marks a rewritten TorchSharp (read by SharpVision.TorchSharpPatch).</summary>
    public const string MarkerKey = "SharpVision.TorchSharpKeepAlive";

    /// <summary>Version of the transformation, stored as the marker's value; bump it when the rewrite changes.</summary>
    public const string MarkerValue = "2";

    private const string ScalarTypeName = "TorchSharp.Scalar";
    private const string TensorTypeName = "TorchSharp.torch/Tensor";

    /// <summary>Whether <paramref name="assembly"/> already carries the marker (the rewrite is then not applied again).</summary>
    public static bool IsRewritten(AssemblyDefinition assembly) =>
        assembly.CustomAttributes.Any(a => a.AttributeType.FullName == "System.Reflection.AssemblyMetadataAttribute"
            && a.ConstructorArguments.Count == 2 && a.ConstructorArguments[0].Value as string == MarkerKey);

    /// <summary>Rewrites every method of <paramref name="module"/> that holds a Scalar, and marks the assembly.</summary>
    public static RewriteStats Rewrite(ModuleDefinition module)
    {
        if (module.GetType(ScalarTypeName) is null)
            throw new InvalidOperationException($"{module.FileName} defines no {ScalarTypeName}; is it TorchSharp?");
        if (module.GetType(TensorTypeName) is null)
            throw new InvalidOperationException($"{module.FileName} defines no {TensorTypeName}; is it TorchSharp?");
        var handles = new HandleTypes(module, [ScalarTypeName, TensorTypeName]);

        // System.GC and AssemblyMetadataAttribute live in the core library TorchSharp already references
        // (System.Runtime for net8.0, netstandard for netstandard2.0): referenced by name, nothing to resolve.
        var core = module.TypeSystem.CoreLibrary;
        var gc = new TypeReference("System", "GC", module, core);
        var keepAlive = new MethodReference("KeepAlive", module.TypeSystem.Void, gc) { HasThis = false };
        keepAlive.Parameters.Add(new ParameterDefinition(module.TypeSystem.Object));

        int methods = 0, keepAlives = 0, temporaries = 0, tailCalls = 0;
        foreach (var type in module.GetTypes())
        {
            foreach (var method in type.Methods)
            {
                if (!method.HasBody) continue;
                var (kept, captured, tails) = RewriteMethod(method, keepAlive, handles);
                if (kept == 0) continue;
                methods++;
                keepAlives += kept;
                temporaries += captured;
                tailCalls += tails;
            }
        }

        var metadata = new TypeReference("System.Reflection", "AssemblyMetadataAttribute", module, core);
        var ctor = new MethodReference(".ctor", module.TypeSystem.Void, metadata) { HasThis = true };
        ctor.Parameters.Add(new ParameterDefinition(module.TypeSystem.String));
        ctor.Parameters.Add(new ParameterDefinition(module.TypeSystem.String));
        var marker = new CustomAttribute(ctor);
        marker.ConstructorArguments.Add(new CustomAttributeArgument(module.TypeSystem.String, MarkerKey));
        marker.ConstructorArguments.Add(new CustomAttributeArgument(module.TypeSystem.String, MarkerValue));
        module.Assembly.CustomAttributes.Add(marker);
        return new RewriteStats(methods, keepAlives, temporaries, tailCalls);
    }

    /// <summary>Returns how many KeepAlive calls each ret received, temporaries captured and tail. prefixes removed.</summary>
    private static (int Kept, int Captured, int Tails) RewriteMethod(MethodDefinition method, MethodReference keepAlive, HandleTypes handles)
    {
        var body = method.Body;
        var instructions = body.Instructions;
        if (instructions.Any(i => i.OpCode.Code == Code.Jmp)) return (0, 0, 0); // jmp reuses the frame: nothing can follow it

        var producers = instructions.Where(i => handles.Holds(PushedType(i))).ToList();
        var parameters = method.Parameters.Where(p => handles.Holds(p.ParameterType)).ToList();
        var locals = body.Variables.Where(v => handles.Holds(v.VariableType)).ToList();
        bool keepThis = method.HasThis && handles.IsHandleType(method.DeclaringType);
        if (producers.Count == 0 && parameters.Count == 0 && locals.Count == 0 && !keepThis) return (0, 0, 0);

        // Long branch forms first: the inserted code can push a short branch's target out of range.
        body.SimplifyMacros();
        var il = body.GetILProcessor();
        int captured = 0;
        foreach (var producer in producers)
        {
            // Stored straight into a Scalar local: that local is kept already.
            if (producer.Next is { OpCode.Code: Code.Stloc } store && locals.Contains((VariableDefinition)store.Operand)) continue;
            var temporary = new VariableDefinition(PushedType(producer)!);
            body.Variables.Add(temporary);
            locals.Add(temporary);
            var dup = il.Create(OpCodes.Dup);
            il.InsertAfter(producer, dup);
            il.InsertAfter(dup, il.Create(OpCodes.Stloc, temporary));
            captured++;
        }

        // A tail call discards this frame, and the Scalars with it, before the callee runs: make it a plain call.
        // The prefix becomes a nop in place, so a branch that targets it stays valid.
        int tails = 0;
        foreach (var prefix in instructions.Where(i => i.OpCode.Code == Code.Tail).ToList())
        {
            prefix.OpCode = OpCodes.Nop;
            prefix.Operand = null;
            tails++;
        }

        var loads = new List<Func<Instruction>>();
        if (keepThis) loads.Add(() => il.Create(OpCodes.Ldarg_0));
        foreach (var p in parameters) loads.Add(() => il.Create(OpCodes.Ldarg, p));
        foreach (var v in locals) loads.Add(() => il.Create(OpCodes.Ldloc, v));

        foreach (var ret in instructions.Where(i => i.OpCode.Code == Code.Ret).ToList())
        {
            // The ret instruction itself becomes the first load, so every branch, leave and exception-handler end
            // that pointed at the ret now points at the KeepAlive sequence and no path can skip it. Each pair
            // (load; call KeepAlive) leaves the stack as it found it, so a return value waiting there is untouched.
            var first = loads[0]();
            ret.OpCode = first.OpCode;
            ret.Operand = first.Operand;
            var last = ret;
            for (int k = 0; k < loads.Count; k++)
            {
                if (k > 0) last = Append(il, last, loads[k]());
                last = Append(il, last, il.Create(OpCodes.Call, keepAlive));
            }
            Append(il, last, il.Create(OpCodes.Ret));
        }

        // Locals added here are read at every ret, including paths where they were never assigned: start them null.
        body.InitLocals = true;
        body.OptimizeMacros();
        return (loads.Count, captured, tails);
    }

    private static Instruction Append(ILProcessor il, Instruction after, Instruction next)
    {
        il.InsertAfter(after, next);
        return next;
    }

    /// <summary>
    /// The types whose instances own a native handle that their finalizer frees: the roots (Scalar, Tensor) and every
    /// class of the module deriving from one (Parameter).
    /// </summary>
    private sealed class HandleTypes
    {
        private readonly HashSet<string> _names;

        public HandleTypes(ModuleDefinition module, IEnumerable<string> roots)
        {
            _names = new HashSet<string>(roots, StringComparer.Ordinal);
            bool grew = true;
            while (grew)
            {
                grew = false;
                foreach (var type in module.GetTypes())
                    if (type.BaseType is { } b && _names.Contains(b.FullName) && _names.Add(type.FullName)) grew = true;
            }
        }

        public bool IsHandleType(TypeReference type) => _names.Contains(type.FullName);

        /// <summary>
        /// Whether a value of <paramref name="type"/> is, or keeps reachable, a handle type: the type itself, arrays of
        /// it, and reference-type generic instances over it (IList&lt;Tensor&gt;, List&lt;Tensor&gt;,
        /// Dictionary&lt;string, Tensor&gt;).
        /// </summary>
        public bool Holds(TypeReference? type) => type switch
        {
            null => false,
            ArrayType array => Holds(array.ElementType),
            // A value type (a tuple of tensors) is not an object reference KeepAlive can take without boxing a copy.
            GenericInstanceType generic => !generic.IsValueType && generic.GenericArguments.Any(Holds),
            // by-ref, pointer, pinned and modified types are not object references KeepAlive can take
            TypeSpecification => false,
            _ => IsHandleType(type),
        };
    }

    /// <summary>The type of the object reference <paramref name="instruction"/> pushes, when it is a call, newobj, field load or cast.</summary>
    private static TypeReference? PushedType(Instruction instruction)
    {
        switch (instruction.OpCode.Code)
        {
            case Code.Call or Code.Callvirt when instruction.Operand is MethodReference callee:
                return Substitute(callee.ReturnType, callee);
            case Code.Newobj when instruction.Operand is MethodReference ctor:
                return ctor.DeclaringType;
            case Code.Ldfld or Code.Ldsfld when instruction.Operand is FieldReference field:
                return field.FieldType is GenericParameter g && field.DeclaringType is GenericInstanceType owner && g.Type == GenericParameterType.Type
                    ? owner.GenericArguments[g.Position]
                    : field.FieldType;
            case Code.Castclass or Code.Isinst or Code.Unbox_Any or Code.Ldelem_Any or Code.Ldobj when instruction.Operand is TypeReference cast:
                return cast;
            case Code.Calli when instruction.Operand is CallSite site:
                return site.ReturnType;
            default:
                return null;
        }
    }

    /// <summary>The return type of a call to a generic method or a method of a generic type, as instantiated.</summary>
    private static TypeReference Substitute(TypeReference type, MethodReference callee) => type switch
    {
        GenericParameter { Type: GenericParameterType.Method } g when callee is GenericInstanceMethod m => m.GenericArguments[g.Position],
        GenericParameter { Type: GenericParameterType.Type } g when callee.DeclaringType is GenericInstanceType t => t.GenericArguments[g.Position],
        _ => type,
    };
}
