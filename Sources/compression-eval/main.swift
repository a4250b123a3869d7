print("compression-eval: not yet implemented")
