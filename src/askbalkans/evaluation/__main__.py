import sys

from askbalkans.evaluation.cli import main

sys.exit(main())
