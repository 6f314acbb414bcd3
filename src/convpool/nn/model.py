"""``Sequential``: layers in a row, trained with softmax cross-entropy."""

import numpy as np

from ..engines._blas import one_blas_thread
from .losses import softmax, softmax_cross_entropy


class Sequential:
    """Layers applied one after another; the last one gives logits.

    Parameters
    ----------
    layers : list of Layer
    input_shape : tuple
        Shape of one example, e.g. ``(28, 28, 1)``.
    seed : int
        Seeds every layer's initialisation (in order).
    dtype : float64 or float32
        Dtype of the parameters; inputs are cast to it.

    Examples
    --------
    >>> from convpool.nn import Dense, ReLU
    >>> net = Sequential([Dense(8), ReLU(), Dense(3)], (4,), seed=0)
    >>> net.predict(np.ones((2, 4))).shape       # class probabilities
    (2, 3)
    """

    def __init__(self, layers, input_shape, *, seed=0, dtype=np.float64):
        self.layers, self.dtype = list(layers), np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"`dtype` must be float32 or float64, "
                             f"got {self.dtype}")
        rng = np.random.default_rng(seed)
        x = np.zeros((0,) + tuple(input_shape), self.dtype)
        self.input_shape = tuple(input_shape)
        for layer in self.layers:
            layer.build(x.shape[1:], rng, self.dtype)
            x = layer.forward(x)        # an empty batch gives the shape
        self.output_shape = x.shape[1:]

    def forward(self, x, training=False):
        """Logits for a batch ``(N, *input_shape)``."""
        x = np.asarray(x, self.dtype)
        for layer in self.layers:
            layer.training = training
            x = layer.forward(x)
        return x

    def backward(self, dy, input_grad=True):
        """Back-propagate the loss gradient ``dy``; fills ``grads``.

        Returns the gradient with respect to the input; with
        ``input_grad=False``, None, and the first layer skips computing it
        (training needs no gradient of the data)."""
        for i, layer in enumerate(self.layers):
            layer.needs_dx = input_grad or i > 0
        for layer in reversed(self.layers):
            dy = layer.backward(dy)
        return dy if input_grad else None

    def parameters(self):
        """Every parameter array, in a fixed order."""
        return [p for layer in self.layers for p in layer.params.values()]

    def gradients(self):
        """The gradients, in the order of :meth:`parameters`."""
        return [layer.grads[name] for layer in self.layers
                for name in layer.params]

    def train_step(self, x, labels, optimizer):
        """One optimiser step on a batch: returns ``(loss, accuracy)``."""
        # The products of a training batch are small: OpenBLAS's own
        # threads cost more than they gain (the ops use both cores).
        with one_blas_thread():
            logits = self.forward(x, training=True)
            loss, dlogits = softmax_cross_entropy(logits, labels)
            self.backward(dlogits, input_grad=False)
            optimizer.step(self.parameters(), self.gradients())
        return loss, float(np.mean(logits.argmax(axis=1) == labels))

    def fit(self, x, labels, optimizer, *, epochs=1, batch_size=32, seed=0,
            validation=None, on_batch=None):
        """Train on shuffled mini-batches.

        Parameters
        ----------
        x : ndarray, shape (N, *input_shape)
        labels : ndarray of int, shape (N,)
        optimizer : SGD or Adam
        epochs, batch_size : int
        seed : int
            Seeds the shuffling.
        validation : (x, labels), optional
            Evaluated after every epoch.
        on_batch : callable(epoch, done, total, loss, accuracy), optional
            Called after every batch (for a progress bar).

        Returns
        -------
        dict of lists, one value per epoch
            ``loss`` and ``accuracy`` (means over the epoch's batches,
            weighted by batch size), and ``val_loss``/``val_accuracy``.
        """
        rng = np.random.default_rng(seed)
        history = {"loss": [], "accuracy": []}
        if validation is not None:
            history.update(val_loss=[], val_accuracy=[])
        for epoch in range(epochs):
            order = rng.permutation(len(x))
            sums = np.zeros(2)
            for start in range(0, len(x), batch_size):
                batch = order[start:start + batch_size]
                loss, acc = self.train_step(x[batch], labels[batch],
                                            optimizer)
                sums += np.array([loss, acc]) * len(batch)
                if on_batch:
                    done = start + len(batch)
                    on_batch(epoch, done, len(x), *(sums / done))
            history["loss"].append(float(sums[0] / len(x)))
            history["accuracy"].append(float(sums[1] / len(x)))
            if validation is not None:
                val_loss, val_acc = self.evaluate(*validation)
                history["val_loss"].append(val_loss)
                history["val_accuracy"].append(val_acc)
        return history

    def predict(self, x, batch_size=256):
        """Class probabilities ``(N, classes)`` (softmax of the logits)."""
        return softmax(self.logits(x, batch_size))

    def logits(self, x, batch_size=256):
        """The network's output for every example, in batches."""
        parts = [self.forward(x[i:i + batch_size])
                 for i in range(0, len(x), batch_size)]
        return np.concatenate(parts) if parts else np.zeros(
            (0,) + self.output_shape, self.dtype)

    def evaluate(self, x, labels, batch_size=256):
        """``(mean loss, accuracy)`` over a data set."""
        logits = self.logits(x, batch_size)
        loss, _ = softmax_cross_entropy(logits, labels)
        return loss, float(np.mean(logits.argmax(axis=1) == labels))

    def save_weights(self, path):
        """Write every parameter to ``path`` (.npz), keys ``"3.kernel"``."""
        np.savez(path, **{f"{i}.{name}": p
                          for i, layer in enumerate(self.layers)
                          for name, p in layer.params.items()})

    def load_weights(self, path):
        """Read parameters written by :meth:`save_weights` (no pickles)."""
        with np.load(path, allow_pickle=False) as saved:
            stored = {k: saved[k] for k in saved.files}
        wanted = {f"{i}.{name}": p for i, layer in enumerate(self.layers)
                  for name, p in layer.params.items()}
        if set(stored) != set(wanted):
            raise ValueError(f"`path` {str(path)!r} holds weights "
                             f"{sorted(stored)}, expected {sorted(wanted)}")
        for key, p in wanted.items():
            if stored[key].shape != p.shape:
                raise ValueError(f"`path` {str(path)!r}: {key} has shape "
                                 f"{stored[key].shape}, expected {p.shape}")
            p[...] = stored[key]

    def __repr__(self):
        inner = ",\n    ".join(map(repr, self.layers))
        return f"Sequential([\n    {inner}], input_shape={self.input_shape})"
