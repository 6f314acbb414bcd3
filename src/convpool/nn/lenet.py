"""LeNet-5 as the course's LeNet-5 task builds it."""

from .layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU
from .model import Sequential


def lenet5(input_shape=(28, 28, 1), classes=10, *, seed=0, dtype="float64"):
    """LeNet-5: conv 6@5x5 'same', ReLU, max pool 2x2/2, conv 16@5x5
    'valid', ReLU, max pool 2x2/2, dense 120, ReLU, dense 84, ReLU,
    dense ``classes``; He-normal initialisation throughout.

    The softmax of the last layer is applied by the loss and by
    ``predict`` (the network's output are logits).

    Examples
    --------
    >>> net = lenet5((28, 28, 1), 10)
    >>> net.output_shape
    (10,)
    >>> [p.shape for p in net.parameters()][:2]
    [(5, 5, 1, 6), (6,)]
    """
    layers = [
        Conv2D(6, 5, padding="same"), ReLU(), MaxPool2D(2, stride=2),
        Conv2D(16, 5, padding="valid"), ReLU(), MaxPool2D(2, stride=2),
        Flatten(),
        Dense(120), ReLU(),
        Dense(84), ReLU(),
        Dense(classes),
    ]
    return Sequential(layers, input_shape, seed=seed, dtype=dtype)
