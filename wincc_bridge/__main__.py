"""`python -m wincc_bridge`: the same as the `wincc-bridge` command."""

import sys

from wincc_bridge.cli import main

sys.exit(main())
