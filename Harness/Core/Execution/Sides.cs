using IommuConformance.Contract;

namespace IommuConformance.Harness.Core.Execution;

/// <summary>
/// The model's verdict on one observed outcome: whether the contract allows it, and the model's own answer
/// (the observed one when it was allowed from a set of choices; the one it expected otherwise).
/// </summary>
public readonly record struct Judgement(bool Allowed, Outcome Expected);

/// <summary>The reference side of a run: judges what the system answered and moves on. Exceptions are suite bugs.</summary>
public interface IJudge
{
    Judgement Judge(Operation op, Outcome observed);
}

/// <summary>The side under test: runs one operation. Exceptions count as failures of the system.</summary>
public interface ISystem
{
    Outcome Execute(Operation op);
}
