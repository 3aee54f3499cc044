"""``python -m rtystrat`` runs the command line."""

from rtystrat.cli import main

raise SystemExit(main())
