"""`python -m dwtui`, the same as the `dwtui` command."""

from dwtui.cli import main

if __name__ == "__main__":
    main()
