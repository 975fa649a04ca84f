using IommuConformance.Contract;
using IommuConformance.Implementations;
using IommuConformance.Model;

namespace IommuConformance.Harness.Execution;

/// <summary>The reference side of a run: answers what a step must do. Exceptions are harness bugs and propagate.</summary>
public interface IReferenceModel
{
    Outcome Step(Operation op);
}

/// <summary>The side under test: runs a step and shows its state. Exceptions count as divergences.</summary>
public interface ISystemUnderTest
{
    Outcome Execute(Operation op);

    SystemSnapshot Snapshot();
}

/// <summary>The project's reference model as a <see cref="IReferenceModel"/>: holds the current immutable state.</summary>
public sealed class ModelReference(ModelState initial) : IReferenceModel
{
    public ModelState State { get; private set; } = initial;

    public Outcome Step(Operation op)
    {
        var step = State.Step(op);
        State = step.Next;
        return step.Outcome;
    }
}

/// <summary>The project's implementation as a <see cref="ISystemUnderTest"/>.</summary>
public sealed class ImplementationUnderTest(IommuSystem system) : ISystemUnderTest
{
    public Outcome Execute(Operation op) => system.Execute(op);

    public SystemSnapshot Snapshot() => system.Snapshot();
}
