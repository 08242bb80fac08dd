"""``python -m depthzoo``: the same as the ``depthzoo`` command."""

import sys

from depthzoo.cli.main import main

sys.exit(main())
