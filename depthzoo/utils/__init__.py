"""Small shared helpers.

File handling (:mod:`depthzoo.utils.files`), argument checks (:mod:`depthzoo.utils.validation`) and lazily
imported package names (:mod:`depthzoo.utils.lazy`).
"""
