# Adds llmorch (and qdrant-edge-py, which nixpkgs lacks) to a nixpkgs package set.
final: prev: {
  pythonPackagesExtensions = prev.pythonPackagesExtensions ++ [
    (pyFinal: pyPrev: {
      qdrant-edge-py = pyPrev.qdrant-edge-py or (pyFinal.callPackage ./qdrant-edge-py.nix { });
    })
  ];
  llmorch = final.python3Packages.callPackage ./package.nix { };
}
