"""Clinical content as reviewed data files, with their schema and loader."""
