using IommuConformance.Contract;
using IommuConformance.Harness.Iommu.Traces;
using IommuConformance.Harness.Core.Steps;
using IommuConformance.Harness.Core.Json;
using IommuConformance.Model;

namespace IommuConformance.Properties.Conformance;

/// <summary>
/// The caller loop that the -EINVAL attach contract exists for (VFIO / iommufd "auto domain", kernel-semantics
/// b.6 and c.22): leave any user domain, try each existing domain and move on only on -EINVAL, then allocate a
/// fresh domain for the device and attach it. The loop's choices follow the model's answers; the executor
/// then holds the implementation to the same answers.
/// </summary>
public static class AttachContract
{
    /// <summary>
    /// The trace extended with the caller loop for <paramref name="dev"/>, or null when the device cannot be
    /// probed (nothing to attach) or its group cannot leave its user domain (no default domain to return to). The loop's last step is the attach that must succeed: it carries
    /// <c>expect OK</c>, so a model that refuses it fails with exit-2 semantics and an implementation that
    /// refuses it diverges.
    /// </summary>
    public static Trace? WithCallerLoop(Trace prefix, string dev)
    {
        // The loop's premise is a machine whose allocations do not fail: a fail_nth still pending would meet the loop's own
        // probe, domain allocation or attach (-ENOMEM is no -EINVAL), and the model alone cannot tell whether the prefix
        // met it. The history is kept without its fault injections.
        if (prefix.Steps.Any(s => s.Op is FailNth)) prefix = prefix.WithSteps([.. prefix.Steps.Where(s => s.Op is not FailNth)]);
        var state = Replay(prefix);
        var steps = prefix.Steps.ToList();
        if (!state.IsProbed(dev) && !Append(steps, ref state, new Probe(dev)).Equals(Outcome.Ok))
            return null;
        if (state.LiveDomains.Contains(state.CurrentDomain(dev)))
            Append(steps, ref state, new DetachGroup(state.CurrentDomain(dev), dev));
        // A group without a default domain (left so by an aborted bus probe) cannot leave a user domain: detach warns
        // set_domain_null_domain and stays. The loop's premise does not hold there, so there is nothing to check.
        if (state.LiveDomains.Contains(state.CurrentDomain(dev)))
            return null;
        foreach (var handle in state.LiveDomains.ToArray())
        {
            var errno = Append(steps, ref state, new AttachGroup(handle, dev)).Errno;
            if (errno != Errno.EINVAL)
                return MustEndAttached(prefix, steps);
        }
        var fresh = "fresh" + steps.Count;
        Append(steps, ref state, new DomainAllocPaging(dev, fresh));
        Append(steps, ref state, new AttachGroup(fresh, dev));
        return MustEndAttached(prefix, steps);
    }

    private static Trace MustEndAttached(Trace prefix, List<TraceStep> steps)
    {
        steps[^1] = steps[^1] with { Expect = new Expect(Errno.OK) };
        return prefix.WithSteps(steps);
    }

    private static ModelState Replay(Trace trace) =>
        trace.Steps.Aggregate(ModelState.Initial(trace.Config, trace.Topology), (s, step) => s.Step(step.Op).Next);

    private static Outcome Append(List<TraceStep> steps, ref ModelState state, Operation op)
    {
        var result = state.Step(op);
        state = result.Next;
        steps.Add(new TraceStep(op));
        return result.Outcome;
    }
}
