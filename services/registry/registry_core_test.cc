// Filled in by the registry work in progress.
