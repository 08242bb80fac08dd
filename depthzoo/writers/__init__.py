"""Writers of prediction outputs beyond single images: :mod:`~depthzoo.writers.video` (depth videos)."""
