"""How long each check of autograder.checks takes on the reference microgpt.

Every check must finish in under 2 seconds (a hidden-test cell runs one). Prints each check's time,
the slowest of three runs, and exits with status 1 if any check is over the limit.

    python benchmarks/check_speed.py
"""

import sys
import time

import microgpt

import autograder.checks

LIMIT = 2.0  # seconds
RUNS = 3


def reference_of(check_name):
    piece = check_name.removeprefix("check_")
    return (
        microgpt.Value
        if piece.startswith("value_") or piece == "backward"
        else getattr(microgpt, piece)
    )


def main():
    slow = []
    print(f"{'check':<32} {'seconds':>8}   (slowest of {RUNS} runs on the reference)")
    for name in autograder.checks.__all__:
        check, reference = getattr(autograder.checks, name), reference_of(name)
        times = []
        for _ in range(RUNS):
            start = time.perf_counter()
            check(reference)
            times.append(time.perf_counter() - start)
        print(f"{name:<32} {max(times):>8.3f}")
        if max(times) > LIMIT:
            slow.append(name)
    if slow:
        print(f"over {LIMIT} s: {', '.join(slow)}")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
