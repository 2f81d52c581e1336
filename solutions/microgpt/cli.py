"""Command line: `python -m microgpt train` and `python -m microgpt sample`.

Generated names go to stdout as `sample NN: name`; progress goes to stderr.
Bad input exits with status 2 and one line saying what is wrong: the course's command-line
convention (autograder/command_line.py), kept here with code of its own so that the reference
imports nothing of the course; tests/test_command_line.py keeps the two in step.
"""

import argparse
import json
import random
import sys
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from . import checkpoint
from .data import DATA_ENV, DataError, default_names_path, ensure_names, load_docs
from .model import ACTIVATIONS, NORMS, GPTConfig, init_params, parameters
from .progress import Progress
from .sample import generate
from .tokenizer import build_vocab, vocab_size
from .train import train


class UsageError(Exception):
    """The command line asks for something that cannot be done."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{message} (see {self.prog} --help)")


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


# argparse names the type in its message ("invalid _positive_int value"); give it a readable name
_positive_int.__name__ = "positive integer"
_non_negative_int.__name__ = "non-negative integer"
_positive_float.__name__ = "positive number"


def package_version():
    try:
        return version("microgpt-course")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


def check_can_save(path):
    """Raise UsageError unless a checkpoint can be written at path, before any training is spent:
    its folder must exist (it is not created) and accept a new file, and path must not be a
    folder."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"cannot save the model to {path}: it is a folder, not a file")
    if not path.parent.is_dir():
        raise UsageError(
            f"cannot save the model to {path}: folder {path.parent} does not exist (make it first)"
        )
    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".microgpt-save-check-"):
            pass
    except OSError as exc:
        raise UsageError(
            f"cannot save the model to {path}: folder {path.parent} is not writable "
            f"({exc.strerror})"
        ) from None


def build_parser():
    parser = _Parser(
        prog="microgpt", description="Train a tiny GPT on names, or sample from a saved one."
    )
    parser.add_argument("--version", action="version", version=f"microgpt {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def add_sampling_options(sub):
        sub.add_argument(
            "--temperature",
            type=_positive_float,
            default=0.5,
            help="sampling temperature (default 0.5)",
        )
        sub.add_argument(
            "--num-samples",
            type=_non_negative_int,
            default=20,
            help="names to generate (default 20)",
        )
        sub.add_argument("--seed", type=int, default=42, help="random seed (default 42)")

    t = commands.add_parser("train", help="train a model, then print generated names")
    t.add_argument(
        "--steps",
        type=_positive_int,
        default=1000,
        help="training steps, one document each (default 1000)",
    )
    t.add_argument(
        "--data", help=f"text file, one document per line (default: names.txt; or set {DATA_ENV})"
    )
    t.add_argument("--n-embd", type=_positive_int, default=16, help="embedding width (default 16)")
    t.add_argument("--n-head", type=_positive_int, default=4, help="attention heads (default 4)")
    t.add_argument(
        "--n-layer", type=_positive_int, default=1, help="transformer layers (default 1)"
    )
    t.add_argument(
        "--block-size",
        type=_positive_int,
        default=16,
        help="longest context in tokens (default 16)",
    )
    t.add_argument(
        "--norm", choices=list(NORMS), default="rmsnorm", help="normalisation (default rmsnorm)"
    )
    t.add_argument(
        "--activation",
        choices=list(ACTIVATIONS),
        default="relu",
        help="the MLP's nonlinearity (default relu)",
    )
    t.add_argument(
        "--lr", type=_positive_float, default=0.01, help="peak learning rate (default 0.01)"
    )
    t.add_argument("--save", metavar="CHECKPOINT", help="write the trained model to this JSON file")
    t.add_argument("--metrics", metavar="FILE", help="write one JSON line per step: step, loss, lr")
    add_sampling_options(t)

    s = commands.add_parser("sample", help="generate names from a saved model")
    s.add_argument(
        "--load", metavar="CHECKPOINT", required=True, help="a file written by train --save"
    )
    add_sampling_options(s)

    d = commands.add_parser(
        "data", help="check names.txt (SHA-256), downloading it first if it is missing"
    )
    d.add_argument("--path", help="where names.txt is (default: data/names.txt in a checkout)")
    return parser


def print_samples(state_dict, config, chars, rng, args):
    for i in range(args.num_samples):
        print(
            f"sample {i + 1:2d}: {generate(state_dict, config, chars, rng, args.temperature)}",
            flush=True,
        )


def run_train(args):
    try:
        config_args = dict(
            n_embd=args.n_embd,
            n_head=args.n_head,
            n_layer=args.n_layer,
            block_size=args.block_size,
            norm=args.norm,
            activation=args.activation,
        )
        GPTConfig(vocab_size=1, **config_args)  # reject a bad shape before the data is read
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.save:
        check_can_save(args.save)
    metrics = None
    if args.metrics:
        try:
            metrics = open(args.metrics, "w", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write metrics to {args.metrics}: {exc.strerror}") from None

    # The draws happen in the original script's order: shuffle, then weights, then samples.
    rng = random.Random(args.seed)
    try:
        docs = load_docs(args.data)
    except DataError as exc:
        if args.data:
            raise
        raise DataError(f"{exc} Or pass --data PATH (or set {DATA_ENV}).") from None
    rng.shuffle(docs)
    chars = build_vocab(docs)
    config = GPTConfig(vocab_size=vocab_size(chars), **config_args)
    state_dict = init_params(config, rng)
    print(
        f"{len(docs)} documents, vocabulary of {config.vocab_size} tokens, "
        f"{len(parameters(state_dict))} parameters",
        file=sys.stderr,
    )

    progress = Progress(args.steps, label="train")

    def on_step(step, loss, lr):
        if metrics:
            metrics.write(json.dumps({"step": step, "loss": loss, "lr": lr}) + "\n")
        progress.update(step, f"loss {loss:.4f}")

    try:
        losses = train(docs, chars, state_dict, config, args.steps, args.lr, on_step)
    finally:
        if metrics:
            metrics.close()
    seconds = progress.elapsed
    print(
        f"trained {args.steps} steps in {seconds:.1f}s ({args.steps / seconds:.2f} steps/s): "
        f"final loss {losses[-1]:.4f}, mean loss {sum(losses) / len(losses):.4f}"
    )
    if args.save:
        meta = {"steps": args.steps, "seed": args.seed, "lr": args.lr, "final_loss": losses[-1]}
        try:
            checkpoint.save(args.save, config, chars, state_dict, meta)
        except OSError as exc:
            raise UsageError(f"cannot write checkpoint {args.save}: {exc.strerror}") from None
        print(f"saved the model to {args.save}", file=sys.stderr)
    print_samples(state_dict, config, chars, rng, args)


def run_sample(args):
    config, chars, state_dict, _ = checkpoint.load(args.load)
    print_samples(state_dict, config, chars, random.Random(args.seed), args)


def run_data(args):
    print(f"names data verified: {ensure_names(args.path or default_names_path())}")


def main(argv=None):
    try:
        args = build_parser().parse_args(argv)
        {"train": run_train, "sample": run_sample, "data": run_data}[args.command](args)
    except (UsageError, DataError, checkpoint.CheckpointError) as exc:
        print(f"microgpt: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("microgpt: interrupted", file=sys.stderr)
        return 130
    return 0
