import sys

from seller_inbox.cli import main

sys.exit(main())
