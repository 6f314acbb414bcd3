"""W10-W12, the 1-D and 3-D workloads of issue 7: an alias of
``python -m benchmarks --only W10,W11,W12 --no-tasks`` (every installed
peer, same process, interleaved medians).  Further options pass through:
``python -m benchmarks.nd --quick``.
"""

import sys

from .run import main

ND = ["--only", "W10,W11,W12", "--no-tasks"]

if __name__ == "__main__":
    main(ND + sys.argv[1:])
