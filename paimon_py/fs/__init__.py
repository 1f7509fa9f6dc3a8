"""File system access (``FileIO`` over ``pyarrow.fs``)."""
