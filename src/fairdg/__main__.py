"""``python -m fairdg`` runs the command line."""

import sys

from fairdg.cli import main

sys.exit(main())
