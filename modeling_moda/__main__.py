import sys

from modeling_moda.cli import main

sys.exit(main())
