import sys

from edge_cli.main import main

sys.exit(main())
