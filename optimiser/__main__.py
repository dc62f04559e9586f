"""python -m optimiser"""

import sys

from .cli import main

sys.exit(main())
