import sys

from harmscope.cli import main

sys.exit(main())
