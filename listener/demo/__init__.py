"""The offline demo: bundled sample customers and feeds, served on 127.0.0.1, through the real pipeline."""
