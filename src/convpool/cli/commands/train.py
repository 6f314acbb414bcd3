"""``convpool train``: LeNet-5 learns handwritten digits, in NumPy."""

import json
import os
import sys
import time

import numpy as np

from .. import files
from ..errors import UserError, require_plot, writing
from ..progress import Progress

DESCRIPTION = """\
Train LeNet-5 (convpool.nn.lenet5: conv 6@5x5 'same', ReLU, max pool 2x2,
conv 16@5x5 'valid', ReLU, max pool 2x2, dense 120, 84, classes) with
convpool's own convolutions and gradients, and draw what it learned.

By default the data are the 1,797 handwritten 8x8 digits that ship inside
scikit-learn (sklearn.datasets.load_digits; nothing is downloaded). They
are RESIZED, not zero-padded, to the network's 16x16 input: every pixel
becomes a 2x2 block (nearest neighbour); pixels 0-16 become 0-1. --seed
splits them 80/20 into training and held-out validation sets, and also
seeds the initial weights and the batch order, so a run is reproducible.
"""

EPILOG = """\
writes to --out:
  curves.png        loss and accuracy per epoch, training and validation
  filters.png       the first convolution's learned kernels
  feature_maps.png  one validation digit through every layer
  confusion.png     the validation (or test) confusion matrix
  weights.npz       the weights (convpool.nn.lenet5(...).load_weights)
  history.json      per epoch: epoch, seconds, loss, accuracy, val_loss,
                    val_accuracy (and test_loss/test_accuracy at the end)

--mnist FILE.npz:
  The course's MNIST.npz: keys X_train, Y_train, X_valid, Y_valid, and
  X_test, Y_test where present. Images (N, H, W), (N, H, W, 1) or
  (N, H*W), values in 0-1 (or 0-255), used at their own size; labels
  (N,) class numbers or one-hot rows.

Without options the run takes about 10-30 s on 2 cores and ends near
99% validation accuracy.

examples:
  convpool train --epochs 3 --out digits
  convpool train --limit 300 --epochs 2 --seed 1    a quick look
  convpool train --mnist MNIST.npz --epochs 1 --batch-size 128
"""


def positive_int(text):
    value = int(text)
    if value < 1:
        raise ValueError(f"must be >= 1, got {value}")
    return value


def positive_float(text):
    value = float(text)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"must be a number > 0, got {text}")
    return value


def _named(check):
    """argparse shows a type's ValueError as 'invalid value'; this keeps
    our message."""
    import argparse

    def parse(text):
        try:
            return check(text)
        except ValueError as exc:
            message = str(exc)
            if not message.startswith("must"):
                message = f"must be a number, got {text!r}"
            raise argparse.ArgumentTypeError(message) from None
    parse.__name__ = check.__name__
    return parse


def add_parser(subparsers):
    """Register ``train``."""
    p = subparsers.add_parser(
        "train", help="train LeNet-5 on handwritten digits and draw it",
        description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("--mnist", metavar="FILE.npz",
                   help="train on the course's MNIST.npz instead")
    p.add_argument("--out", default="convpool-train", metavar="DIR",
                   help="folder for the outputs (default ./convpool-train)")
    p.add_argument("--epochs", type=_named(positive_int), default=15,
                   help="passes over the training set (default 15)")
    p.add_argument("--batch-size", type=_named(positive_int), default=32,
                   help="examples per optimiser step (default 32)")
    p.add_argument("--lr", type=_named(positive_float), default=2e-3,
                   help="learning rate (default 0.002)")
    p.add_argument("--optimizer", choices=("adam", "sgd"), default="adam",
                   help="adam (default) or sgd with --momentum")
    p.add_argument("--momentum", type=float, default=0.9,
                   help="SGD momentum (default 0.9)")
    p.add_argument("--seed", type=int, default=0,
                   help="split, initial weights and batch order (default 0)")
    p.add_argument("--limit", type=_named(positive_int), metavar="N",
                   help="train on the first N training examples only "
                        "(a quick look)")
    p.set_defaults(func=run)


def load_data(args):
    """The data set the options ask for, as ``convpool.nn.data`` gives it."""
    from ...nn import data
    if args.mnist is None:
        try:
            return data.digits(args.seed)
        except ImportError:
            raise UserError('the default data need scikit-learn: '
                            'pip install "convpool[train]"') from None
    path = args.mnist
    if not os.path.isfile(path):
        raise UserError(f"argument --mnist: {path!r} does not exist")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise ValueError("a single array")
    except Exception as exc:        # np.load's zip, format, pickle errors
        raise UserError(f"argument --mnist: cannot load {path!r}: not a "
                        f"NumPy .npz file ({type(exc).__name__})") from None
    try:
        return data.mnist(path)
    except ValueError as exc:
        raise UserError(f"argument --mnist: {path!r}: "
                        f"{str(exc).replace('`', '')}") from None


class EpochBar:
    """A progress bar per epoch with the running loss and accuracy, on a
    terminal only."""

    def __init__(self, epochs):
        self.epochs, self.bar = epochs, None

    def __call__(self, epoch, done, total, loss, accuracy):
        if self.bar is None or self.bar.done >= self.bar.total:
            self.bar = Progress(total, "", unit="images")
        self.bar.label = (f"epoch {epoch + 1}/{self.epochs} loss {loss:.4f} "
                          f"accuracy {accuracy:.1%}")
        self.bar.update(done - self.bar.done)


def report_epoch(epoch, history):
    print(f"epoch {history['epoch'][-1]:>3}  "
          f"loss {history['loss'][-1]:.4f}  "
          f"accuracy {history['accuracy'][-1]:.2%}  "
          f"val_loss {history['val_loss'][-1]:.4f}  "
          f"val_accuracy {history['val_accuracy'][-1]:.2%}  "
          f"({history['seconds'][-1]:.1f} s)", flush=True)


def run(args):
    """``convpool train``."""
    from ...nn import figures, train
    start = time.perf_counter()
    if args.momentum < 0:
        raise UserError(f"argument --momentum: must be >= 0, "
                        f"got {args.momentum}")
    require_plot()
    data = load_data(args)
    if args.limit:
        data["X_train"] = data["X_train"][:args.limit]
        data["Y_train"] = data["Y_train"][:args.limit]
    files.make_folder(args.out, "--out")
    shape = data["X_train"].shape[1:3]
    if min(shape) < 12:
        raise UserError(f"argument --mnist: images of {shape[0]}x{shape[1]} "
                        f"are too small for LeNet-5 (at least 12x12)")
    print(f"training LeNet-5 on {len(data['X_train'])} images "
          f"{shape[0]}x{shape[1]}, validating on {len(data['X_valid'])}",
          flush=True)
    net, history = train.run(
        data, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        optimizer=args.optimizer, momentum=args.momentum, seed=args.seed,
        on_batch=EpochBar(args.epochs), on_epoch=report_epoch)
    write_outputs(args.out, net, history, data, figures, train)
    final = f"validation accuracy {history['val_accuracy'][-1]:.2%}"
    if "test_accuracy" in history:
        final += f", test accuracy {history['test_accuracy']:.2%}"
    print(f"{final}; {time.perf_counter() - start:.1f} s in all; "
          f"wrote {args.out}/")
    return 0


def write_outputs(out, net, history, data, figures, train):
    """The six files of ``--out``."""
    part = "test" if "X_test" in data else "valid"
    x, labels = data[f"X_{part}"], data[f"Y_{part}"]
    probabilities = net.predict(x) if len(x) else np.zeros((0, 2))
    predicted = probabilities.argmax(axis=1)
    classes = net.output_shape[0]

    def path(name):
        return os.path.join(out, name)

    with writing(path("weights.npz"), "--out"):
        net.save_weights(path("weights.npz"))
        with open(path("history.json"), "w") as f:
            json.dump(history, f, indent=1)
        figures.curves(history, path("curves.png"))
        figures.filters(net.parameters()[0], path("filters.png"))
        figures.confusion(train.confusion_matrix(labels, predicted, classes),
                          path("confusion.png"),
                          f"{part}: {np.mean(predicted == labels):.1%} "
                          f"of {len(labels)} correct")
        if len(x):
            figures.feature_maps(train.feature_maps(net, x[0]),
                                 probabilities[0], labels[0],
                                 path("feature_maps.png"))
    sys.stdout.flush()
