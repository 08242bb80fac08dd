"""Small shared helpers: file handling (:mod:`depthzoo.utils.files`) and argument checks
(:mod:`depthzoo.utils.validation`).
"""
