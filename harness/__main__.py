import sys

try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C while importing: the same quiet exit as Ctrl-C later
    print("harness: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
