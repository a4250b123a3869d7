print("embedding-benchmark: not yet implemented")
