"""Training LeNet-5 and recording what it learned (``convpool train``)."""

import time

import numpy as np

from .lenet import lenet5
from .optim import SGD, Adam


def confusion_matrix(labels, predicted, classes):
    """``counts[true, predicted]``.

    >>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 0, 1]), 2)
    array([[1, 0],
           [1, 1]])
    """
    counts = np.zeros((classes, classes), np.int64)
    np.add.at(counts, (labels, predicted), 1)
    return counts


def run(data, *, epochs=15, batch_size=32, lr=2e-3, optimizer="adam",
        momentum=0.9, seed=0, dtype="float32", on_batch=None,
        on_epoch=None):
    """Train LeNet-5 on ``data`` (as :mod:`convpool.nn.data` returns it).

    Parameters
    ----------
    data : dict
        ``X_train (N, H, W, 1)``, ``Y_train (N,)``, ``X_valid``,
        ``Y_valid``, and optionally ``X_test``, ``Y_test``.
    epochs, batch_size : int
    lr : float
        Learning rate.
    optimizer : 'adam' or 'sgd'
        Adam, or SGD with ``momentum``.
    seed : int
        Seeds the initial weights and the order of the batches.
    on_batch : callable(epoch, done, total, loss, accuracy), optional
    on_epoch : callable(epoch, history), optional
        Called after each epoch with the history so far.

    Returns
    -------
    net : Sequential
    history : dict
        Per epoch: ``epoch`` (1, 2, ...), ``seconds`` (since the start),
        ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``; and, with
        a test set, ``test_loss`` and ``test_accuracy`` after training.
    """
    classes = int(max(data["Y_train"].max(), data["Y_valid"].max(
        initial=0))) + 1
    net = lenet5(data["X_train"].shape[1:], max(classes, 2), seed=seed,
                 dtype=dtype)
    opt = Adam(lr=lr) if optimizer == "adam" else SGD(lr=lr,
                                                      momentum=momentum)
    keys = ["epoch", "seconds", "loss", "accuracy", "val_loss",
            "val_accuracy"]
    history = {k: [] for k in keys}
    start = time.perf_counter()
    valid = (data["X_valid"], data["Y_valid"])
    for epoch in range(epochs):
        one = net.fit(data["X_train"], data["Y_train"], opt, epochs=1,
                      batch_size=batch_size, seed=seed * 1000 + epoch,
                      validation=valid, on_batch=_at_epoch(on_batch, epoch))
        history["epoch"].append(epoch + 1)
        history["seconds"].append(round(time.perf_counter() - start, 3))
        for k, v in one.items():
            history[k].append(v[0])
        if on_epoch:
            on_epoch(epoch, history)
    if "X_test" in data:
        test_loss, test_acc = net.evaluate(data["X_test"], data["Y_test"])
        history.update(test_loss=test_loss, test_accuracy=test_acc)
    return net, history


def _at_epoch(on_batch, epoch):
    if on_batch is None:
        return None
    return lambda _, *rest: on_batch(epoch, *rest)


def feature_maps(net, image):
    """Every layer's output for one image ``(H, W, 1)``, as
    ``[(layer name, output without the batch axis), ...]``."""
    x = image[None].astype(net.dtype)
    maps = [("input", image)]
    for layer in net.layers:
        x = layer.forward(x)
        maps.append((repr(layer).split("(")[0], x[0]))
    return maps
