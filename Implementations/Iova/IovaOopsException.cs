namespace IommuConformance.Implementations.Iova;

/// <summary>
/// What the kernel would do with an oops or memory corruption: a NULL dereference (rcaches never set up), a use
/// after put_iova_domain, a push into a full magazine. A bug of the software, not bad input, hence the exception.
/// </summary>
public sealed class IovaOopsException(string message) : InvalidOperationException("oops: " + message);
