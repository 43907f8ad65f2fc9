using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace SharpVision.Tests.Architecture;

/// <summary>
/// The namespace dependency graph of a compiled assembly, read with System.Reflection.Metadata: an edge A -> B when
/// a type declared in namespace A names a type of namespace B in its base type, interfaces, generic constraints,
/// custom attributes, field/method/property/event signatures, or method bodies (locals and every type, method or
/// field token of the IL). Nested and compiler-generated types (lambdas, iterators, async state machines) count for
/// the namespace of their outermost declaring type.
/// </summary>
internal sealed class NamespaceGraph
{
    /// <summary>Namespace -> namespaces of this assembly it uses -> one example "Type uses Type" for the report.</summary>
    public Dictionary<string, Dictionary<string, string>> Edges { get; } = new(StringComparer.Ordinal);

    /// <summary>Names of the assemblies referenced by this one (its AssemblyRef table).</summary>
    public List<string> ReferencedAssemblies { get; } = [];

    /// <summary>Namespaces of types defined in this assembly (only those passing the filter).</summary>
    public SortedSet<string> Namespaces { get; } = new(StringComparer.Ordinal);

    private readonly MetadataReader _reader;
    private readonly Func<string, bool> _include;
    private readonly Collector _collector;

    private NamespaceGraph(MetadataReader reader, Func<string, bool> include)
    {
        _reader = reader;
        _include = include;
        _collector = new Collector(reader);
    }

    public static NamespaceGraph Read(string assemblyPath, Func<string, bool> includeNamespace)
    {
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        var reader = pe.GetMetadataReader();
        var graph = new NamespaceGraph(reader, includeNamespace);
        foreach (var handle in reader.AssemblyReferences)
            graph.ReferencedAssemblies.Add(reader.GetString(reader.GetAssemblyReference(handle).Name));
        foreach (var typeHandle in reader.TypeDefinitions)
            graph.AddType(pe, typeHandle);
        return graph;
    }

    private void AddType(PEReader pe, TypeDefinitionHandle typeHandle)
    {
        var (ns, typeName) = _collector.Outermost(typeHandle);
        if (!_include(ns))
            return;
        Namespaces.Add(ns);
        var found = new List<TypeName>();
        var type = _reader.GetTypeDefinition(typeHandle);
        _collector.Type(type.BaseType, found);
        foreach (var i in type.GetInterfaceImplementations())
            _collector.Type(_reader.GetInterfaceImplementation(i).Interface, found);
        _collector.Attributes(type.GetCustomAttributes(), found);
        _collector.GenericParameters(type.GetGenericParameters(), found);
        foreach (var f in type.GetFields())
        {
            var field = _reader.GetFieldDefinition(f);
            found.AddRange(field.DecodeSignature(_collector, null));
            _collector.Attributes(field.GetCustomAttributes(), found);
        }
        foreach (var p in type.GetProperties())
        {
            var property = _reader.GetPropertyDefinition(p);
            AddSignature(property.DecodeSignature(_collector, null), found);
            _collector.Attributes(property.GetCustomAttributes(), found);
        }
        foreach (var e in type.GetEvents())
        {
            var ev = _reader.GetEventDefinition(e);
            _collector.Type(ev.Type, found);
            _collector.Attributes(ev.GetCustomAttributes(), found);
        }
        foreach (var m in type.GetMethods())
        {
            var method = _reader.GetMethodDefinition(m);
            AddSignature(method.DecodeSignature(_collector, null), found);
            _collector.Attributes(method.GetCustomAttributes(), found);
            _collector.GenericParameters(method.GetGenericParameters(), found);
            foreach (var p in method.GetParameters())
                _collector.Attributes(_reader.GetParameter(p).GetCustomAttributes(), found);
            if (method.RelativeVirtualAddress != 0)
                _collector.Body(pe.GetMethodBody(method.RelativeVirtualAddress), found);
        }

        foreach (var target in found)
        {
            if (!target.InThisAssembly || target.Namespace == ns || !_include(target.Namespace))
                continue;
            if (!Edges.TryGetValue(ns, out var targets))
                Edges[ns] = targets = new Dictionary<string, string>(StringComparer.Ordinal);
            targets.TryAdd(target.Namespace, $"{ns}.{typeName} uses {target.Namespace}.{target.Name}");
        }
    }

    private static void AddSignature(MethodSignature<ImmutableArray<TypeName>> signature, List<TypeName> found)
    {
        found.AddRange(signature.ReturnType);
        foreach (var p in signature.ParameterTypes)
            found.AddRange(p);
    }

    /// <summary>
    /// The strongly connected components with more than one namespace: each one is a cycle. A sub-namespace using
    /// its own parent (Training.Callbacks -> Training: a callback sees its trainer, as in Keras) is one unit with it
    /// and is not an edge here; every other use is, so Data -> Augmentation -> Data.Detection -> Augmentation is a cycle.
    /// </summary>
    public List<List<string>> Cycles()
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var result = new List<List<string>>();
        int next = 0;

        void Visit(string v)
        {
            index[v] = low[v] = next++;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in Targets(v))
            {
                if (v.StartsWith(w + ".", StringComparison.Ordinal))
                    continue; // a sub-namespace using its parent
                if (!index.ContainsKey(w))
                {
                    Visit(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (onStack.Contains(w))
                    low[v] = Math.Min(low[v], index[w]);
            }
            if (low[v] != index[v])
                return;
            var component = new List<string>();
            string x;
            do
            {
                x = stack.Pop();
                onStack.Remove(x);
                component.Add(x);
            } while (x != v);
            if (component.Count > 1)
                result.Add(component.Order(StringComparer.Ordinal).ToList());
        }

        foreach (var v in Namespaces)
            if (!index.ContainsKey(v))
                Visit(v);
        return result;
    }

    /// <summary>The namespaces a namespace uses directly.</summary>
    public IEnumerable<string> Targets(string ns) =>
        Edges.TryGetValue(ns, out var targets) ? targets.Keys.Order(StringComparer.Ordinal) : [];

    /// <summary>Why <paramref name="from"/> uses <paramref name="to"/> (one example).</summary>
    public string Evidence(string from, string to) => Edges[from][to];

    /// <summary>A shortest path of namespaces from <paramref name="from"/> to one matching <paramref name="target"/>, or null.</summary>
    public List<string>? PathTo(string from, Func<string, bool> target)
    {
        var previous = new Dictionary<string, string?>(StringComparer.Ordinal) { [from] = null };
        var queue = new Queue<string>([from]);
        while (queue.Count > 0)
        {
            var v = queue.Dequeue();
            if (v != from && target(v))
            {
                var path = new List<string>();
                for (string? x = v; x is not null; x = previous[x])
                    path.Add(x);
                path.Reverse();
                return path;
            }
            foreach (var w in Targets(v))
                if (previous.TryAdd(w, v))
                    queue.Enqueue(w);
        }
        return null;
    }

    /// <summary>A type named by the metadata: its namespace, name and whether it is defined in this assembly.</summary>
    internal readonly record struct TypeName(string Namespace, string Name, bool InThisAssembly);

    /// <summary>Turns handles, signatures and IL into the types they name.</summary>
    private sealed class Collector(MetadataReader reader) : ISignatureTypeProvider<ImmutableArray<TypeName>, object?>
    {
        private static readonly Dictionary<short, OperandType> OperandTypes = typeof(OpCodes)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => (OpCode)f.GetValue(null)!)
            .ToDictionary(o => o.Value, o => o.OperandType);

        public (string Namespace, string Name) Outermost(TypeDefinitionHandle handle)
        {
            var type = reader.GetTypeDefinition(handle);
            while (type.GetDeclaringType() is { IsNil: false } outer)
                type = reader.GetTypeDefinition(outer);
            return (reader.GetString(type.Namespace), reader.GetString(type.Name));
        }

        public void Type(EntityHandle handle, List<TypeName> found)
        {
            if (handle.IsNil)
                return;
            switch (handle.Kind)
            {
                case HandleKind.TypeDefinition:
                    found.Add(Definition((TypeDefinitionHandle)handle));
                    break;
                case HandleKind.TypeReference:
                    found.Add(Reference((TypeReferenceHandle)handle));
                    break;
                case HandleKind.TypeSpecification:
                    found.AddRange(reader.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(this, null));
                    break;
            }
        }

        /// <summary>Any token: a type, a method or field (its declaring type and signature), a generic method instance.</summary>
        public void Token(EntityHandle handle, List<TypeName> found)
        {
            switch (handle.Kind)
            {
                case HandleKind.TypeDefinition or HandleKind.TypeReference or HandleKind.TypeSpecification:
                    Type(handle, found);
                    break;
                case HandleKind.MethodDefinition:
                {
                    var method = reader.GetMethodDefinition((MethodDefinitionHandle)handle);
                    found.Add(Definition(method.GetDeclaringType()));
                    break;
                }
                case HandleKind.FieldDefinition:
                    found.Add(Definition(reader.GetFieldDefinition((FieldDefinitionHandle)handle).GetDeclaringType()));
                    break;
                case HandleKind.MemberReference:
                {
                    var member = reader.GetMemberReference((MemberReferenceHandle)handle);
                    Token(member.Parent, found);
                    if (member.GetKind() == MemberReferenceKind.Method)
                    {
                        var signature = member.DecodeMethodSignature(this, null);
                        found.AddRange(signature.ReturnType);
                        foreach (var p in signature.ParameterTypes)
                            found.AddRange(p);
                    }
                    else
                        found.AddRange(member.DecodeFieldSignature(this, null));
                    break;
                }
                case HandleKind.MethodSpecification:
                {
                    var spec = reader.GetMethodSpecification((MethodSpecificationHandle)handle);
                    Token(spec.Method, found);
                    foreach (var argument in spec.DecodeSignature(this, null))
                        found.AddRange(argument);
                    break;
                }
            }
        }

        public void Attributes(CustomAttributeHandleCollection attributes, List<TypeName> found)
        {
            foreach (var a in attributes)
                Token(reader.GetCustomAttribute(a).Constructor, found);
        }

        public void GenericParameters(GenericParameterHandleCollection parameters, List<TypeName> found)
        {
            foreach (var p in parameters)
                foreach (var c in reader.GetGenericParameter(p).GetConstraints())
                    Type(reader.GetGenericParameterConstraint(c).Type, found);
        }

        public void Body(MethodBodyBlock body, List<TypeName> found)
        {
            if (!body.LocalSignature.IsNil)
                foreach (var local in reader.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(this, null))
                    found.AddRange(local);
            var il = body.GetILReader();
            while (il.RemainingBytes > 0)
            {
                short value = il.ReadByte();
                if (value == 0xFE)
                    value = unchecked((short)(0xFE00 | il.ReadByte()));
                switch (OperandTypes[value])
                {
                    case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineType or OperandType.InlineTok:
                        Token(MetadataTokens.EntityHandle(il.ReadInt32()), found);
                        break;
                    case OperandType.InlineSwitch:
                        int cases = il.ReadInt32();
                        il.Offset += 4 * cases;
                        break;
                    case OperandType.InlineNone:
                        break;
                    case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                        il.Offset += 1;
                        break;
                    case OperandType.InlineVar:
                        il.Offset += 2;
                        break;
                    case OperandType.InlineI8 or OperandType.InlineR:
                        il.Offset += 8;
                        break;
                    default: // InlineBrTarget, InlineI, InlineSig, InlineString, ShortInlineR
                        il.Offset += 4;
                        break;
                }
            }
        }

        private TypeName Definition(TypeDefinitionHandle handle)
        {
            var (ns, name) = Outermost(handle);
            return new TypeName(ns, name, true);
        }

        private TypeName Reference(TypeReferenceHandle handle)
        {
            var type = reader.GetTypeReference(handle);
            while (type.ResolutionScope.Kind == HandleKind.TypeReference)
                type = reader.GetTypeReference((TypeReferenceHandle)type.ResolutionScope);
            bool local = type.ResolutionScope.Kind is HandleKind.ModuleDefinition;
            return new TypeName(reader.GetString(type.Namespace), reader.GetString(type.Name), local);
        }

        public ImmutableArray<TypeName> GetPrimitiveType(PrimitiveTypeCode typeCode) => [];
        public ImmutableArray<TypeName> GetTypeFromDefinition(MetadataReader r, TypeDefinitionHandle handle, byte rawTypeKind) => [Definition(handle)];
        public ImmutableArray<TypeName> GetTypeFromReference(MetadataReader r, TypeReferenceHandle handle, byte rawTypeKind) => [Reference(handle)];
        public ImmutableArray<TypeName> GetTypeFromSpecification(MetadataReader r, object? context, TypeSpecificationHandle handle, byte rawTypeKind) =>
            r.GetTypeSpecification(handle).DecodeSignature(this, context);
        public ImmutableArray<TypeName> GetSZArrayType(ImmutableArray<TypeName> elementType) => elementType;
        public ImmutableArray<TypeName> GetArrayType(ImmutableArray<TypeName> elementType, ArrayShape shape) => elementType;
        public ImmutableArray<TypeName> GetByReferenceType(ImmutableArray<TypeName> elementType) => elementType;
        public ImmutableArray<TypeName> GetPointerType(ImmutableArray<TypeName> elementType) => elementType;
        public ImmutableArray<TypeName> GetPinnedType(ImmutableArray<TypeName> elementType) => elementType;
        public ImmutableArray<TypeName> GetGenericInstantiation(ImmutableArray<TypeName> genericType, ImmutableArray<ImmutableArray<TypeName>> typeArguments) =>
            genericType.AddRange(typeArguments.SelectMany(a => a));
        public ImmutableArray<TypeName> GetGenericMethodParameter(object? context, int index) => [];
        public ImmutableArray<TypeName> GetGenericTypeParameter(object? context, int index) => [];
        public ImmutableArray<TypeName> GetFunctionPointerType(MethodSignature<ImmutableArray<TypeName>> signature) =>
            signature.ReturnType.AddRange(signature.ParameterTypes.SelectMany(p => p));
        public ImmutableArray<TypeName> GetModifiedType(ImmutableArray<TypeName> modifier, ImmutableArray<TypeName> unmodifiedType, bool isRequired) =>
            unmodifiedType.AddRange(modifier);
    }
}
