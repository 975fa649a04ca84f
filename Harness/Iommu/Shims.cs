// Transitional: the touched-set type lands with the implementation's touched-set reporting. Deleted then.
namespace IommuConformance.Implementations
{
    public sealed class TouchedSet
    {
        public IReadOnlyCollection<string> Devices { get; init; } = [];
        public IReadOnlyCollection<int> Groups { get; init; } = [];
        public IReadOnlyCollection<int> Domains { get; init; } = [];
    }
}
