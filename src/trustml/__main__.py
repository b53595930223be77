import sys

from trustml.cli import main

sys.exit(main())
