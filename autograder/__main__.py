"""`python -m autograder` is the console command `microgpt-course`."""

import sys

from autograder.pipeline.cli import main

sys.exit(main())
