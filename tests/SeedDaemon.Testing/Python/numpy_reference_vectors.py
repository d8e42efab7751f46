"""Prints NumPy's own published SeedSequence test vectors as JSON.

The vectors are read from the installed NumPy's test suite (numpy/random/tests/test_seed_sequence.py:
test_reference_data, the C++ reference of the SeedSequence author, and test_zero_padding) with
`ast`, so nothing is copied into this repository and nothing is computed here.
"""
import ast
import json
import os

import numpy.random.tests

path = os.path.join(os.path.dirname(numpy.random.tests.__file__), "test_seed_sequence.py")
with open(path, encoding="utf-8") as source:
    tree = ast.parse(source.read())

found = {}
for function in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in ("inputs", "outputs", "outputs64"):
                found[name] = ast.literal_eval(node.value)
            elif name == "expected42" and isinstance(node.value, ast.Call):
                found["expected42"] = ast.literal_eval(node.value.args[0])

cases = []
for entropy, words, words64 in zip(found["inputs"], found["outputs"], found["outputs64"]):
    cases.append({"entropy": entropy, "state32": words, "state64": [str(w) for w in words64]})
cases.append({"entropy": [42], "state32": found["expected42"], "state64": []})
print(json.dumps({"source": path, "cases": cases}))
