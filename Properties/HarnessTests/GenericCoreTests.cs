using System.Reflection;
using System.Reflection.Emit;
using IommuConformance.Harness.Core.Execution;
using Xunit;

namespace IommuConformance.Properties.HarnessTests;

/// <summary>
/// The harness's generic core (namespace <c>IommuConformance.Harness.Core</c>: steps, step JSON, check pipeline,
/// executor) names no IOMMU concept: its signatures and method bodies reference only the BCL, FsCheck, itself, the
/// operation-table vocabulary and the contract's carrier types (Operation, Outcome, Errno). Checked on the compiled
/// IL, so a stray use inside a method body is caught too.
/// </summary>
public class GenericCoreTests
{
    private static readonly string[] AllowedPrefixes =
        ["System.", "Microsoft.FSharp.", "FsCheck.", "IommuConformance.Harness.Core.", "IommuConformance.Contract.Vocabulary.", "<",
         "Coverlet.Core.Instrumentation."]; // coverlet injects its hit tracker into instrumented method bodies

    private static readonly string[] AllowedContractTypes =
        ["IommuConformance.Contract.Operation", "IommuConformance.Contract.Outcome", "IommuConformance.Contract.Errno"];

    [Fact]
    public void The_generic_core_references_no_iommu_type()
    {
        var core = typeof(CaseExecutor).Assembly.GetTypes()
            .Where(t => t.Namespace?.StartsWith("IommuConformance.Harness.Core", StringComparison.Ordinal) == true).ToList();
        Assert.NotEmpty(core);
        var offences = core.SelectMany(t => References(t).Where(r => !Allowed(r)).Select(r => $"{t.FullName} → {r.FullName}"))
            .Distinct().ToList();
        Assert.True(offences.Count == 0, string.Join("\n", offences));
    }

    [Fact]
    public void The_reference_scan_sees_method_bodies()
    {
        // This test class itself uses CaseExecutor only inside a method body: the scan must report it.
        Assert.Contains(References(typeof(GenericCoreTests)), t => t == typeof(CaseExecutor));
    }

    private static bool Allowed(Type t)
    {
        while (t.HasElementType) t = t.GetElementType()!;
        if (t.IsGenericParameter) return true;
        var name = (t.IsGenericType ? t.GetGenericTypeDefinition() : t).FullName ?? t.Name;
        return AllowedPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)) || AllowedContractTypes.Contains(name)
            || t.IsGenericParameter;
    }

    private static IEnumerable<Type> References(Type type)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var found = new HashSet<Type>();
        void Add(Type? t)
        {
            if (t is null || !found.Add(t)) return;
            if (t.HasElementType) Add(t.GetElementType());
            if (t.IsGenericType) foreach (var a in t.GetGenericArguments()) Add(a);
        }
        Add(type.BaseType);
        foreach (var i in type.GetInterfaces()) Add(i);
        foreach (var f in type.GetFields(all)) Add(f.FieldType);
        foreach (var p in type.GetProperties(all)) Add(p.PropertyType);
        foreach (var m in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
        {
            if (m is MethodInfo mi) Add(mi.ReturnType);
            foreach (var p in m.GetParameters()) Add(p.ParameterType);
            foreach (var t in BodyReferences(m)) Add(t);
        }
        return found;
    }

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    /// <summary>The types named by the member and type tokens of a method body's IL.</summary>
    private static IEnumerable<Type> BodyReferences(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null) yield break;
        var module = method.Module;
        Type[]? typeArgs = method.DeclaringType?.IsGenericType == true ? method.DeclaringType.GetGenericArguments() : null;
        Type[]? methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (var i = 0; i < il.Length;)
        {
            var value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            var op = OpCodesByValue[value];
            i += op.Size;
            var operand = op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                _ => 4,
            };
            if (op.OperandType is OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok)
            {
                var token = BitConverter.ToInt32(il, i);
                Type? t = null;
                try
                {
                    t = module.ResolveMember(token, typeArgs, methodArgs) switch
                    {
                        Type ty => ty,
                        MemberInfo member => member.DeclaringType,
                        _ => null,
                    };
                }
                catch (ArgumentException) { }
                if (t is not null) yield return t;
            }
            i += operand;
        }
    }
}
