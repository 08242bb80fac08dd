"""Ships the top-level ``configs/`` and ``checkpoints/`` folders inside the package (``depthzoo/configs``,
``depthzoo/checkpoints``) so they are reachable by name after ``pip install``; everything else is in pyproject.toml.
"""

from setuptools import find_packages, setup

BUNDLED = {"depthzoo.configs": "configs", "depthzoo.checkpoints": "checkpoints"}

setup(
    packages=find_packages(include=["depthzoo", "depthzoo.*"]) + list(BUNDLED),
    package_dir=BUNDLED,
    package_data={
        "depthzoo": ["py.typed"],
        "depthzoo.datasets.splits": ["*.txt", "*.json"],
        "depthzoo.configs": ["*.yaml"],
        "depthzoo.demo": ["examples/*.png"],
        "depthzoo.checkpoints": ["*.json", "*.md"],
    },
)
