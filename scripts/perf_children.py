"""Share of all perf samples spent under each direct callee of FRAME (its outermost occurrence in a stack).

usage: python3 scripts/perf_children.py PERF_SCRIPT_OUTPUT FRAME [TOP]
"""
import collections
import re
import sys


def short(frame: str) -> str:
    frame = re.sub(r"\[[^\]]*\]", "", frame).replace("IommuConformance.", "")
    match = re.search(r"([\w`<>|.+]+::[\w`<>|.]+)\(", frame)
    return match.group(1) if match else frame.strip()[:80]


def main() -> None:
    path, target = sys.argv[1], sys.argv[2]
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    total = hit = 0
    under: collections.Counter[str] = collections.Counter()
    stack: list[str] = []

    def flush() -> None:
        nonlocal total, hit
        if not stack:
            return
        total += 1
        names = [short(f) for f in stack]          # leaf first
        at = max((i for i, n in enumerate(names) if n == target or n.endswith("." + target)), default=None)
        if at is None:
            return
        hit += 1
        under[names[at - 1] if at > 0 else "(self)"] += 1

    with open(path, errors="replace") as lines:
        for line in lines:
            if not line.strip():
                flush()
                stack = []
            elif line[0] in " \t":
                parts = line.strip().split(" ", 1)
                if len(parts) == 2:
                    stack.append(parts[1])
            else:
                stack = []
    flush()
    if total == 0:
        sys.exit("perf_children: no samples")
    print(f"{target}: {100 * hit / total:.1f}% of {total} samples")
    for name, count in under.most_common(top):
        print(f"{100 * count / total:6.2f}%  {name}")


if __name__ == "__main__":
    main()
