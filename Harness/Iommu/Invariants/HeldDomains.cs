using IommuConformance.Implementations;

namespace IommuConformance.Harness.Iommu.Invariants;

/// <summary>
/// The domain ids a group points at (current, default, blocking), without repeats: a struct enumerable, because the
/// view and the scope walk it for every group a step touches.
/// </summary>
public readonly struct HeldDomains(GroupSnapshot g)
{
    public Enumerator GetEnumerator() => new(g);

    public struct Enumerator(GroupSnapshot g)
    {
        private int _slot = -1;

        public int Current { get; private set; }

        public bool MoveNext()
        {
            while (++_slot < 3)
            {
                var (id, repeat) = _slot switch
                {
                    0 => (g.DomainId, false),
                    1 => (g.DefaultDomainId, g.DefaultDomainId == g.DomainId),
                    _ => (g.BlockingDomainId, g.BlockingDomainId == g.DomainId || g.BlockingDomainId == g.DefaultDomainId),
                };
                if (id is not { } d || repeat) continue;
                Current = d;
                return true;
            }
            return false;
        }
    }
}
