using IommuConformance.Implementations;

namespace IommuConformance.Harness.Iommu.Invariants;

/// <summary>
/// The domain ids a group points at (current, default, blocking, then those of its PASID slots), without repeats: a struct enumerable, because the
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
            while (++_slot < 3 + g.Pasids.Length)
            {
                if (_slot >= 3)
                {
                    // a domain attached to PASIDs (held by the group's pasid_array), each once
                    var p = g.Pasids[_slot - 3].DomainId;
                    if (p == g.DomainId || p == g.DefaultDomainId || p == g.BlockingDomainId) continue;
                    var seen = false;
                    for (var k = 0; k < _slot - 3 && !seen; k++) seen = g.Pasids[k].DomainId == p;
                    if (seen) continue;
                    Current = p;
                    return true;
                }
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
