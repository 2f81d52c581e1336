"""Training speed and peak memory of the reference at the default sizes.

    python benchmarks/train_speed.py [--steps N]

Prints steps per second and the process's peak resident memory. Uses the same
code path as `python -m microgpt train` (seed 42, names.txt).
"""

import random
import resource
import sys
import time

from microgpt import GPTConfig, build_vocab, init_params, train, vocab_size
from microgpt.data import load_docs
from microgpt.progress import Progress

from autograder.command_line import Parser, run

PROG = "benchmarks/train_speed.py"


def main(argv=None):
    parser = Parser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument(
        "--steps", type=int, default=100, help="training steps to time (default 100)"
    )
    steps = parser.parse_args(argv).steps
    rng = random.Random(42)
    docs = load_docs()
    rng.shuffle(docs)
    chars = build_vocab(docs)
    config = GPTConfig(vocab_size=vocab_size(chars))
    state_dict = init_params(config, rng)
    progress = Progress(steps, label="benchmark")
    start = time.perf_counter()
    train(
        docs, chars, state_dict, config, steps, on_step=lambda step, loss, lr: progress.update(step)
    )
    seconds = time.perf_counter() - start
    # ru_maxrss is in KiB on Linux, bytes on macOS
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (
        2**20 if sys.platform == "darwin" else 2**10
    )
    print(
        f"train: {steps} steps in {seconds:.1f}s = "
        f"{steps / seconds:.2f} steps/s; peak memory {peak:.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(run(PROG, main))
